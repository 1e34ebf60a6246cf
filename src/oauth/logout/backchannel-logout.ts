/**
 * OpenID Connect Back-Channel Logout 1.0: who is told when a session ends, and when.
 *
 * - A client that registered a `backchannel_logout_uri` and redeems an authorization code of a
 *   browser session is recorded as a client of that session (§2.1: the OP keeps track of the
 *   RPs logged in with each session). Clients without the URI are not recorded: nothing would be
 *   sent to them (one that registers a URI later is told of sessions started after that).
 * - When a browser session ends (RP-initiated logout), each of its clients gets a logout token
 *   with `sid` and `sub`, queued in the same statement that ends the session.
 * - When all of a user's sessions end (POST /logout, `logout_all`, `users revoke-sessions`,
 *   `users disable`), each client with a live browser session or a live refresh-token family of
 *   the user gets one: with the `sid` of that session or family, or `sub` alone for tokens
 *   issued outside a browser session (the password grant) — except to a client that registered
 *   `backchannel_logout_session_required` (§2.2: it needs `sid`, which such a login never had).
 *   Queued before the families are revoked, since they name the clients; a crash in between
 *   leaves notices for sessions that still exist, never an ended session nobody was told of.
 *
 * Queuing never waits for delivery (delivery.ts runs in the background): a slow or unreachable
 * relying party cannot hold up the user's logout page.
 */
import type { Config } from '../../config';
import type { Clock } from '../../shared/clock';
import type { LogoutDeliveryRepository } from './delivery-storage';
import type { LogoutDelivery } from './delivery';

export interface BackchannelLogoutDeps {
  repo: LogoutDeliveryRepository;
  delivery: Pick<LogoutDelivery, 'wake'>;
  clock: Clock;
  config: Pick<Config, 'BACKCHANNEL_LOGOUT_GIVE_UP_AFTER'>;
}

export class BackchannelLogout {
  constructor(private readonly deps: BackchannelLogoutDeps) {}

  /** The client received tokens in this browser session (called when a code is redeemed). */
  async recordTokensInSession(
    sessionId: string,
    client: { id: string; backchannelLogoutUri: string | null },
  ): Promise<void> {
    if (!client.backchannelLogoutUri) return;
    await this.deps.repo.recordSessionClient(sessionId, client.id, this.deps.clock.now());
  }

  /** Ends the browser session and queues its logout tokens; returns how many were queued. */
  async endSession(sessionId: string, reason: string): Promise<number> {
    const { queued } = await this.deps.repo.endSession(sessionId, this.options(reason));
    if (queued > 0) this.deps.delivery.wake();
    return queued;
  }

  /** Queues logout tokens for every session of the user that is about to end; returns how many. */
  async userSessionsEnding(userId: string, reason: string): Promise<number> {
    const queued = await this.deps.repo.enqueueForUser(userId, this.options(reason));
    if (queued > 0) this.deps.delivery.wake();
    return queued;
  }

  private options(reason: string) {
    const at = this.deps.clock.now();
    const giveUpAt = new Date(
      at.getTime() + this.deps.config.BACKCHANNEL_LOGOUT_GIVE_UP_AFTER * 1000,
    );
    return { at, giveUpAt, reason };
  }
}
