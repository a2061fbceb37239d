/**
 * One backplane link of a live conference as the console shows it (the guide's Backplanes tab):
 * links are one way, so two nodes holding a conference show two, A→B and B→A.
 */
export interface BackplaneLinkView {
  id: string;
  /** The transmitting node. */
  mediaNode: string;
  /** The receiving node. */
  remoteMediaNode: string;
  /** The transmitting node's system location. */
  systemLocation: string;
  /** `local`: both nodes in one system location; `geographic`: in two. */
  type: 'local' | 'geographic';
  /** When the backplane was opened (ISO). */
  startTime: string;
}
