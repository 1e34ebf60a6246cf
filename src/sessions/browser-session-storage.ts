/** Browser (SSO) sessions as stored and their repository (sessions/browser-sessions.ts uses it). */

/** A browser (SSO) session; the cookie's secret is never stored, only its SHA-256. */
export interface BrowserSessionRecord {
  id: string;
  userId: string;
  authTime: Date;
  amr: string[];
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}

export interface BrowserSessionRepository {
  create(session: {
    secretHash: string;
    userId: string;
    authTime: Date;
    amr: string[];
    expiresAt: Date;
    now: Date;
  }): Promise<BrowserSessionRecord>;
  /** The session whose secret hashes to `secretHash`, if it has not ended or expired at `now`. */
  findActive(secretHash: string, now: Date): Promise<BrowserSessionRecord | null>;
  touch(id: string, at: Date): Promise<void>;
  /** Ends the session; returns whether it was still active. */
  end(id: string, at: Date): Promise<boolean>;
  /** Ends every live session of the user (a disabled account); returns how many. */
  endAllForUser(userId: string, at: Date): Promise<number>;
  /** Live refresh-token families born in this session (RP-initiated logout revokes them). */
  liveFamilyIds(sessionId: string): Promise<string[]>;
  /** Deletes sessions that expired or ended before `before`; returns how many. */
  purgeExpired(before: Date): Promise<number>;
}
