/**
 * Browser (SSO) sessions. The cookie holds 32 random bytes; PostgreSQL holds only their
 * SHA-256, so a leaked table cannot be replayed as cookies. A successful login always starts
 * a new session (new cookie value), which defeats session fixation (OWASP Session Management).
 */
import type { AppContext } from '../http/types';
import type { BrowserSessionRecord, BrowserSessionRepository } from './browser-session-storage';
import type { Clock } from '../shared/clock';
import { randomToken, sha256 } from '../shared/crypto';
import type { CookieJar } from './cookies';

export interface BrowserSessionsOptions {
  repo: BrowserSessionRepository;
  cookies: CookieJar;
  clock: Clock;
  /** SESSION_TTL in seconds. */
  ttlSeconds: number;
}

export class BrowserSessions {
  constructor(private readonly options: BrowserSessionsOptions) {}

  /** The live session named by the request's cookie, or null. */
  async current(ctx: AppContext): Promise<BrowserSessionRecord | null> {
    const secret = this.options.cookies.get(ctx, this.options.cookies.sessionName);
    if (!secret) return null;
    const now = this.options.clock.now();
    const session = await this.options.repo.findActive(sha256(secret), now);
    if (session && now.getTime() - session.lastSeenAt.getTime() > 60_000)
      await this.options.repo.touch(session.id, now);
    return session;
  }

  /** Starts a session for a user who has just authenticated, replacing any previous one. */
  async start(ctx: AppContext, userId: string, amr: string[]): Promise<BrowserSessionRecord> {
    const { repo, cookies, clock, ttlSeconds } = this.options;
    const previous = await this.current(ctx);
    const now = clock.now();
    if (previous) await repo.end(previous.id, now);
    const secret = randomToken(32);
    const session = await repo.create({
      secretHash: sha256(secret),
      userId,
      authTime: now,
      amr,
      expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
      now,
    });
    cookies.set(ctx, cookies.sessionName, secret, { maxAge: ttlSeconds });
    return session;
  }

  /** Ends the session and deletes the cookie. */
  async end(ctx: AppContext, sessionId: string | null): Promise<void> {
    if (sessionId) await this.options.repo.end(sessionId, this.options.clock.now());
    this.options.cookies.clear(ctx, this.options.cookies.sessionName);
  }
}
