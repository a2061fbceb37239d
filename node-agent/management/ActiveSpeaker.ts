import type { StagePosition } from '../media/MediaTypes.js';

/**
 * A conference's current dominant speaker as the management server's live status shows it, from the
 * conference media's stage (most recent dominant speaker first, then everyone else with media).
 * The front of the stage counts only once that participant has been heard in this conference:
 * before anyone speaks the stage is just the participants in arrival order, and nobody is speaking.
 */
export class ActiveSpeaker {
  private readonly heard = new Set<string>();
  private value: string | null = null;

  /** The participant id of the current speaker, or null. */
  get current(): string | null {
    return this.value;
  }

  /** Takes the new stage; true when the current speaker changed (then report `current`). */
  update(stage: readonly StagePosition[]): boolean {
    for (const s of stage) if (s.speaking) this.heard.add(s.participantId);
    const front = stage[0]?.participantId;
    const next = front !== undefined && this.heard.has(front) ? front : null;
    if (next === this.value) return false;
    this.value = next;
    return true;
  }
}
