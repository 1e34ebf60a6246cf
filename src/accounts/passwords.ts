/**
 * Password hashing with argon2id at the configured parameters (OWASP: m ≥ 19 MiB, t ≥ 2).
 * Verification of an unknown user runs against a dummy hash so that response time does not
 * reveal whether an account exists.
 */
import argon2 from 'argon2';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  constructor(private readonly params: Argon2Params) {}

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id, ...this.params });
  }

  /** False for any malformed hash as well as for a wrong password. */
  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Spends the same time as a real verification, and always fails. */
  async verifyDummy(password: string): Promise<false> {
    this.dummy ??= this.hash('tessera-dummy-password');
    await this.verify(await this.dummy, password);
    return false;
  }

  /** True when the hash was made with other parameters than the configured ones. */
  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, { ...this.params });
    } catch {
      return true;
    }
  }
}
