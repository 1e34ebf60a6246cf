/**
 * The single-use links sent by email: 256 random bits in the link, only their SHA-256 stored
 * (a leaked table opens nothing), EMAIL_TOKEN_TTL (or INVITATION_TTL) to live, used with one
 * conditional UPDATE (email-token-storage.ts) so a link works once.
 */
import { randomToken, sha256 } from '../shared/crypto';
import type { Clock } from '../shared/clock';
import type { Continuation, EmailTokenPurpose, EmailTokenRepository } from './email-token-storage';

export const LINK_PATHS: Record<EmailTokenPurpose, string> = {
  verify_email: '/verify-email',
  reset_password: '/reset-password',
  invitation: '/signup',
};

const QUERY: Record<EmailTokenPurpose, string> = {
  verify_email: 'token',
  reset_password: 'token',
  invitation: 'invitation',
};

export interface IssuedLink {
  tokenHash: string;
  url: string;
}

/** Stores a new token for `purpose` and returns its absolute link under `issuer`. */
export async function issueLink(
  deps: { emailTokens: EmailTokenRepository; clock: Clock },
  issuer: string,
  link: {
    purpose: EmailTokenPurpose;
    userId: string | null;
    email: string;
    ttlSeconds: number;
    continuation?: Continuation | null;
  },
): Promise<IssuedLink> {
  const token = randomToken(32);
  const tokenHash = sha256(token);
  const now = deps.clock.now();
  await deps.emailTokens.create({
    tokenHash,
    purpose: link.purpose,
    userId: link.userId,
    email: link.email,
    continuation: link.continuation ?? null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + link.ttlSeconds * 1000),
  });
  const url = new URL(`${issuer}${LINK_PATHS[link.purpose]}`);
  url.searchParams.set(QUERY[link.purpose], token);
  return { tokenHash, url: url.toString() };
}

/** The stored hash of a token taken from a link (anything malformed hashes to no row). */
export function linkTokenHash(token: string | undefined): string | null {
  if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  return sha256(token);
}
