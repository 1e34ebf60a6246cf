/** User accounts as stored, the profile the token paths see, and their repository. */

export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  emailVerified: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  preferredUsername: string | null;
  picture: string | null;
  locale: string | null;
  roles: string[];
  disabled: boolean;
  /** A self-service sign-up: it signs in only once emailVerified is true. */
  verifyBeforeSignIn: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A user as the token paths see it (claims, enabled or not): everything but the password hash,
 * which only the login path loads.
 */
export type UserProfile = Omit<UserRecord, 'passwordHash'>;

export interface NewUser {
  email: string;
  passwordHash: string;
  name?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  emailVerified?: boolean;
  verifyBeforeSignIn?: boolean;
  roles?: string[];
}

export interface UserRepository {
  create(user: NewUser): Promise<UserRecord>;
  findById(id: string): Promise<UserRecord | null>;
  /** Email is matched case-insensitively (stored lower-cased). */
  findByEmail(email: string): Promise<UserRecord | null>;
  list(): Promise<UserRecord[]>;
  setDisabled(id: string, disabled: boolean, at: Date): Promise<void>;
  /** Replaces the hash only if it is still `expected` (transparent rehash must not undo a password change). */
  updatePasswordHash(id: string, expected: string, next: string): Promise<void>;
  /** Sets a new password (a reset): replaces the hash whatever it was. */
  setPasswordHash(id: string, next: string, at: Date): Promise<void>;
  /** Marks the email verified; returns whether it was not yet. */
  markEmailVerified(id: string, at: Date): Promise<boolean>;
  /** Deletes an account (a sign-up whose verification mail could not be sent). */
  remove(id: string): Promise<void>;
}
