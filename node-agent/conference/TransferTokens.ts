import { randomBytes } from 'node:crypto';
import type { Role } from '../../shared/conference/pinCheck.js';

/** How long a one-time transfer token may be used (client-api-v2 §2.1 `token`, SSE `refer`). */
export const TRANSFER_TOKEN_LIFETIME_MS = 60_000;

/** What a transfer token was issued for: the destination service and who was transferred. */
export interface TransferGrant {
  /** The destination service; the token only works there. */
  serviceId: number;
  /** The destination alias, as the `refer` event gave it. */
  alias: string;
  /** The service the caller came from (e.g. the Virtual Reception), for the log. */
  fromService: string;
  /** The participant who was transferred, for the log. */
  fromParticipant: string;
  displayName: string;
  /** A Host's transfer gives this role at the destination (no PIN asked); unset = the destination's PIN rules. */
  role?: Role;
  expiresAt: number;
}

export type TransferCheck = { ok: true; grant: TransferGrant } | { ok: false };

/**
 * One-time tokens that let a transferred participant (Virtual Reception → VMR) join the
 * destination. Single use and short-lived; bound to one service so a token cannot open another.
 * The destination's own rules (PINs, limits) still apply: callers `check` first and `consume`
 * only once the join has succeeded, so a PIN prompt does not burn the token.
 */
export class TransferTokens {
  private readonly grants = new Map<string, TransferGrant>();

  constructor(
    private readonly lifetimeMs = TRANSFER_TOKEN_LIFETIME_MS,
    private readonly now: () => number = Date.now,
  ) {}

  issue(grant: Omit<TransferGrant, 'expiresAt'>): string {
    this.sweep();
    const token = randomBytes(32).toString('base64url');
    this.grants.set(token, { ...grant, expiresAt: this.now() + this.lifetimeMs });
    return token;
  }

  /** Is the token valid for this service? Does not use it up. */
  check(token: string, serviceId: number): TransferCheck {
    const grant = this.grants.get(token);
    if (!grant) return { ok: false };
    if (grant.expiresAt <= this.now()) {
      this.grants.delete(token);
      return { ok: false };
    }
    if (grant.serviceId !== serviceId) return { ok: false };
    return { ok: true, grant };
  }

  /** Uses the token up (after a successful join). */
  consume(token: string): void {
    this.grants.delete(token);
  }

  get size(): number {
    this.sweep();
    return this.grants.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [t, g] of this.grants) if (g.expiresAt <= now) this.grants.delete(t);
  }
}
