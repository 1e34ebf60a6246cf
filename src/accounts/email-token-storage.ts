/**
 * Single-use links sent by email and sign-up invitations, as stored: only the token's SHA-256
 * (a leaked table opens no link), what it is for, whom it is for, and until when.
 */

export type EmailTokenPurpose = 'verify_email' | 'reset_password' | 'invitation';

/** A sign-in in progress that a link continues (the sealed state of the login page, unsealed). */
export interface Continuation {
  params: Record<string, string>;
  origin?: { pushed: boolean; signed: boolean };
  resource?: string[];
}

export interface EmailTokenRecord {
  tokenHash: string;
  purpose: EmailTokenPurpose;
  userId: string | null;
  /** Lower-cased. */
  email: string;
  continuation: Continuation | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface NewEmailToken {
  tokenHash: string;
  purpose: EmailTokenPurpose;
  userId: string | null;
  email: string;
  continuation?: Continuation | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface EmailTokenRepository {
  create(token: NewEmailToken): Promise<void>;
  /**
   * Uses the token: one conditional UPDATE that succeeds only while it is unused, unexpired and
   * for `purpose`, so two requests with the same link cannot both use it. Null otherwise.
   */
  consume(
    tokenHash: string,
    purpose: EmailTokenPurpose,
    at: Date,
  ): Promise<EmailTokenRecord | null>;
  /** The token if it is usable at `at`, without using it (a page showing the form). */
  findUsable(
    tokenHash: string,
    purpose: EmailTokenPurpose,
    at: Date,
  ): Promise<EmailTokenRecord | null>;
  /** Uses up every open token of the user for `purpose` (a new password kills older reset links). */
  consumeAllForUser(userId: string, purpose: EmailTokenPurpose, at: Date): Promise<number>;
  /** Deletes one token (its mail could not be sent). */
  remove(tokenHash: string): Promise<void>;
}
