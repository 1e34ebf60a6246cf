/**
 * Back-channel logout's records (OpenID Connect Back-Channel Logout 1.0): which clients received
 * tokens in which browser session, and the outbox of logout tokens still to deliver. The
 * repository is owned here; persistence/postgres/logout-deliveries.ts implements it.
 */

/** One logout token to deliver: to `clientId`, about `userId` (`sub`) and `sessionId` (`sid`). */
export interface LogoutDeliveryRecord {
  /** Also the logout token's `jti`. */
  id: string;
  clientId: string;
  userId: string;
  sessionId: string | null;
  reason: string;
  /** Attempts started so far, this one included once claimed. */
  attempts: number;
  createdAt: Date;
  giveUpAt: Date;
}

/** Where an outbox row's logout tokens come from, and until when they may be tried. */
export interface EnqueueOptions {
  at: Date;
  giveUpAt: Date;
  /** Why the session ended (logout, logout_all, operator, user_disabled, …), for the audit log. */
  reason: string;
}

export interface LogoutDeliveryRepository {
  /**
   * Records that `clientId` received tokens in browser session `sessionId` (idempotent); a
   * session that no longer exists records nothing.
   */
  recordSessionClient(sessionId: string, clientId: string, at: Date): Promise<void>;
  /**
   * Ends the browser session and, in the same statement, queues a logout token for each client
   * that received tokens in it and registered a backchannel_logout_uri. `ended` is false when
   * the session had already ended (then nothing is queued).
   */
  endSession(
    sessionId: string,
    options: EnqueueOptions,
  ): Promise<{ ended: boolean; queued: number }>;
  /**
   * Queues logout tokens for all of the user's sessions with every client (their sessions are
   * about to end): one per client and live browser session it received tokens in, one per
   * client and live refresh-token family (with the family's session, or none: a sub-only
   * token, not queued for a client that requires `sid`). Returns how many.
   */
  enqueueForUser(userId: string, options: EnqueueOptions): Promise<number>;
  /**
   * Claims up to `limit` deliveries due at `now` (FOR UPDATE SKIP LOCKED: two instances never
   * claim the same row), counting the attempt and leasing the row until `leaseUntil`, so that a
   * crash mid-attempt only delays it.
   */
  claimDue(now: Date, leaseUntil: Date, limit: number): Promise<LogoutDeliveryRecord[]>;
  /** Removes a delivery that is done (delivered or given up), if this attempt still holds it. */
  finish(id: string, attempts: number): Promise<void>;
  /** Schedules the next attempt, if this attempt still holds the row. */
  retryAt(id: string, attempts: number, next: Date, error: string): Promise<void>;
  /** Deliveries still queued (operations, tests). */
  pending(): Promise<LogoutDeliveryRecord[]>;
}
