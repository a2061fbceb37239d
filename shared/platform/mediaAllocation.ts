/**
 * Where a call's media goes (admin guide "Handling of media and signaling"; digest 1 §9), as one
 * pure function so that every node decides alike from the same view of the platform:
 *
 * - candidate locations come from the signalling node's location: its Transcoding location (or
 *   itself), then its Primary, then its Secondary overflow location; overflow settings of those
 *   locations are not followed (not transitive);
 * - within a location, a transcoding node already handling this conference with room for the
 *   call is kept; else the node with the most free capacity, while the conference uses fewer than
 *   3 transcoding nodes there; proxying edge nodes and nodes in maintenance never take media;
 * - when no candidate location has room, the call is rejected;
 * - a call signalled on a proxying edge node has its lineside media on the least-loaded proxying
 *   node of the signalling location (no overflow), which forwards to the transcoding node chosen.
 *
 * Capacity is counted in media tokens: an audio-only call is 1, SD 6, HD 12, Full HD 24 (the
 * guide's 1/12 : 0.5 : 1 : 2 HD units). In a deployment of more than one transcoding node, each
 * conference instance on each node reserves a backplane connection (1 HD, the default maximum call
 * quality): a node that does not host the conference yet takes its first call only with room for
 * the call and that reservation (digest 1 §7.3; a single-node deployment reserves nothing).
 */

export type CallKind = 'audio' | 'sd' | 'hd' | 'fullhd';
export type NodeRole = 'transcoding' | 'proxying';

export const MEDIA_TOKENS: Record<CallKind, number> = { audio: 1, sd: 6, hd: 12, fullhd: 24 };
/** The guide's limit of transcoding nodes per location per conference. */
export const MAX_NODES_PER_LOCATION = 3;
/** A conference instance's backplane reservation on each node: 1 HD connection. */
export const BACKPLANE_RESERVATION_TOKENS = MEDIA_TOKENS.hd;

/** The tokens each conference instance reserves for its backplane in a deployment of these nodes (none on a single transcoding node). */
export function backplaneReservation(nodes: readonly { role: NodeRole }[]): number {
  return nodes.filter((n) => n.role === 'transcoding').length > 1 ? BACKPLANE_RESERVATION_TOKENS : 0;
}

export interface AllocationLocation {
  id: number;
  name: string;
  /** null: "This location". */
  transcodingLocation: number | null;
  primaryOverflow: number | null;
  secondaryOverflow: number | null;
}

export interface AllocationNode {
  id: number;
  name: string;
  location: number;
  role: NodeRole;
  maintenance: boolean;
  /** Whether the node is reachable now (a node not responding takes no calls). */
  live: boolean;
  maxMediaTokens: number;
  mediaTokensUsed: number;
  /** Whether the node already handles media of this conference. */
  hostsConference: boolean;
}

export interface AllocationRequest {
  signallingNode: number;
  call: CallKind;
  locations: readonly AllocationLocation[];
  nodes: readonly AllocationNode[];
}

export type Allocation =
  | {
      ok: true;
      /** The transcoding node that handles the call's media. */
      mediaNode: number;
      /** Which candidate location it is in: 0 transcoding, 1 primary overflow, 2 secondary overflow. */
      candidate: 0 | 1 | 2;
      /** Set when the call was signalled on a proxying edge node: the node holding its lineside media. */
      proxyNode?: number;
    }
  | {
      ok: false;
      /** The disconnect reason the caller is given (guide: "Resource unavailable", #pex191). */
      reason: typeof RESOURCE_UNAVAILABLE;
      /** The administrator log's words, which the "Call capacity limit reached" alarm points to. */
      log: 'out of transcoding resource' | 'out of proxying resource';
    };

/** The guide's disconnect reason when nothing fits (#pex191). */
export const RESOURCE_UNAVAILABLE = 'Resource unavailable';
const NO_CAPACITY = { ok: false, reason: RESOURCE_UNAVAILABLE, log: 'out of transcoding resource' } as const;
const NO_PROXY_CAPACITY = { ok: false, reason: RESOURCE_UNAVAILABLE, log: 'out of proxying resource' } as const;

export function allocateMedia(req: AllocationRequest): Allocation {
  const signalling = req.nodes.find((n) => n.id === req.signallingNode);
  const home = signalling && req.locations.find((l) => l.id === signalling.location);
  if (!signalling || !home) return NO_CAPACITY;
  const tokens = MEDIA_TOKENS[req.call];
  const reserve = backplaneReservation(req.nodes);
  const usable = (n: AllocationNode) => n.live && !n.maintenance;
  const free = (n: AllocationNode) => n.maxMediaTokens - n.mediaTokensUsed;

  let proxyNode: number | undefined;
  if (signalling.role === 'proxying') {
    // Lineside media stays in the signalling location, on its least-loaded proxying node.
    const proxies = req.nodes.filter((n) => n.location === home.id && n.role === 'proxying' && usable(n) && free(n) >= tokens);
    const best = mostFree(proxies);
    if (!best) return NO_PROXY_CAPACITY;
    proxyNode = best.id;
  }

  const candidates = [home.transcodingLocation ?? home.id, home.primaryOverflow, home.secondaryOverflow];
  const tried = new Set<number>();
  for (let i = 0; i < candidates.length; i++) {
    const location = candidates[i];
    if (location === null || location === undefined || tried.has(location)) continue;
    tried.add(location);
    const transcoding = req.nodes.filter((n) => n.location === location && n.role === 'transcoding' && usable(n));
    const hosting = transcoding.filter((n) => n.hostsConference);
    // A node new to the conference starts its instance there: the call and the backplane reservation.
    const fits = (n: AllocationNode) => free(n) >= tokens + (n.hostsConference ? 0 : reserve);
    // A node already in the conference with room: keep the conference together.
    const kept = mostFree(hosting.filter(fits));
    const chosen = kept ?? (hosting.length < MAX_NODES_PER_LOCATION ? mostFree(transcoding.filter((n) => !n.hostsConference && fits(n))) : undefined);
    if (chosen) return { ok: true, mediaNode: chosen.id, candidate: i as 0 | 1 | 2, ...(proxyNode !== undefined ? { proxyNode } : {}) };
  }
  return NO_CAPACITY;
}

/** The node with the most free tokens; ties go to the lower id so every node decides alike. */
function mostFree(nodes: readonly AllocationNode[]): AllocationNode | undefined {
  let best: AllocationNode | undefined;
  for (const n of nodes) {
    if (!best) best = n;
    else {
      const d = n.maxMediaTokens - n.mediaTokensUsed - (best.maxMediaTokens - best.mediaTokensUsed);
      if (d > 0 || (d === 0 && n.id < best.id)) best = n;
    }
  }
  return best;
}
