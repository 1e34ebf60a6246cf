/**
 * State of a sign-in in progress (authorize → login → consent → redirect), carried by the
 * pages themselves: the validated request parameters are sealed with AES-256-GCM and put in a
 * hidden form field. The browser cannot read or alter them (no parameter tampering), and every
 * step re-validates them against the client's registration (no open redirector).
 *
 * CSRF (OWASP synchronizer token): the sealed blob and a separate token are bound to a random
 * per-browser cookie (HttpOnly, SameSite=Lax); a forged cross-site POST cannot know the
 * cookie's value, so it can produce neither. SameSite alone is not relied upon.
 *
 * Keys are derived (HKDF, RFC 5869) from the key-encryption keys every instance shares; any
 * configured KEK opens a blob, so KEK rotation does not break sign-ins in flight.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { AppContext } from '../../http/types';
import type { Kek } from '../../keys/envelope';
import type { CookieJar } from '../../sessions/cookies';
import type { Clock } from '../../shared/clock';
import { constantTimeEqual, randomToken, sha256 } from '../../shared/crypto';
import type { RequestOrigin } from './request';

/** Seconds a login or consent page stays usable. */
export const INTERACTION_TTL_SECONDS = 600;

export interface InteractionState {
  /** The authorization request parameters as received (re-validated at every step). */
  params: Record<string, string>;
  /** Set on the consent page: the session the consent was asked in. */
  sessionId?: string;
  /** The parameters were pushed (RFC 9126) or signed (RFC 9101): validated as such again. */
  origin?: RequestOrigin;
  /** RFC 8707: the request's resources (distinct and registered), re-validated at every step. */
  resource?: string[];
}

export class InteractionError extends Error {
  override name = 'InteractionError';
}

interface DerivedKey {
  seal: Buffer;
  csrf: Buffer;
}

export class Interactions {
  private readonly keys: DerivedKey[];

  constructor(
    keks: readonly Kek[],
    private readonly cookies: CookieJar,
    private readonly clock: Clock,
  ) {
    this.keys = keks.map((k) => ({
      seal: derive(k.key, 'tessera interaction seal v1'),
      csrf: derive(k.key, 'tessera csrf v1'),
    }));
  }

  /** The per-browser binding value, set as a cookie when absent. */
  binding(ctx: AppContext): string {
    const issued = ctx.state.browserBinding;
    if (typeof issued === 'string') return issued;
    const existing = this.cookies.get(ctx, this.cookies.browserName);
    if (existing && existing.length >= 43) return existing;
    const value = randomToken(32);
    this.cookies.set(ctx, this.cookies.browserName, value);
    ctx.state.browserBinding = value;
    return value;
  }

  /** The CSRF token for `purpose` in this browser. */
  csrfToken(ctx: AppContext, purpose: string): string {
    return this.csrfWith(this.keys[0]!, this.binding(ctx), purpose);
  }

  /** Throws InteractionError unless `token` is this browser's token for `purpose`. */
  checkCsrf(ctx: AppContext, purpose: string, token: string | undefined): void {
    const bound = this.cookies.get(ctx, this.cookies.browserName);
    if (!bound || !token) throw new InteractionError('missing CSRF cookie or token');
    if (!this.keys.some((k) => constantTimeEqual(this.csrfWith(k, bound, purpose), token)))
      throw new InteractionError('CSRF token mismatch');
  }

  seal(ctx: AppContext, state: InteractionState): string {
    const bound = this.binding(ctx);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!.seal, iv);
    cipher.setAAD(Buffer.from(sha256(bound)));
    const body = JSON.stringify({
      ...state,
      exp: this.clock.epochSeconds() + INTERACTION_TTL_SECONDS,
    });
    const ct = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url');
  }

  /** Opens a blob sealed for this browser; throws InteractionError when forged, foreign or expired. */
  open(ctx: AppContext, sealed: string | undefined): InteractionState {
    const bound = this.cookies.get(ctx, this.cookies.browserName);
    if (!bound || !sealed || sealed.length > 16_384)
      throw new InteractionError('missing interaction state');
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 29) throw new InteractionError('malformed interaction state');
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.seal, raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(sha256(bound)));
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        const plain = Buffer.concat([
          decipher.update(raw.subarray(12, raw.length - 16)),
          decipher.final(),
        ]).toString('utf8');
        const parsed = JSON.parse(plain) as InteractionState & { exp: number };
        if (parsed.exp < this.clock.epochSeconds())
          throw new InteractionError('interaction expired');
        return {
          params: parsed.params,
          ...(parsed.sessionId ? { sessionId: parsed.sessionId } : {}),
          ...(parsed.origin
            ? {
                origin: {
                  pushed: parsed.origin.pushed === true,
                  signed: parsed.origin.signed === true,
                },
              }
            : {}),
          ...(Array.isArray(parsed.resource) ? { resource: parsed.resource } : {}),
        };
      } catch (err) {
        if (err instanceof InteractionError) throw err;
      }
    }
    throw new InteractionError('interaction state does not open');
  }

  private csrfWith(key: DerivedKey, bound: string, purpose: string): string {
    return createHmac('sha256', key.csrf).update(`${purpose}:${bound}`).digest('base64url');
  }
}

function derive(ikm: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), info, 32));
}
