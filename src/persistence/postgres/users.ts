import type { PrismaClient, User } from '../../generated/prisma/client';
import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../../db/database';
import type { NewUser, UserProfile, UserRecord, UserRepository } from '../../accounts/user-storage';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Every UserRecord field with its column: the one list the select lists and the mappings below use. */
const USER_FIELDS = [
  ['id', 'id'],
  ['email', 'email'],
  ['password_hash', 'passwordHash'],
  ['email_verified', 'emailVerified'],
  ['name', 'name'],
  ['given_name', 'givenName'],
  ['family_name', 'familyName'],
  ['preferred_username', 'preferredUsername'],
  ['picture', 'picture'],
  ['locale', 'locale'],
  ['roles', 'roles'],
  ['disabled', 'disabled'],
  ['verify_before_sign_in', 'verifyBeforeSignIn'],
  ['created_at', 'createdAt'],
  ['updated_at', 'updatedAt'],
] as const satisfies ReadonlyArray<readonly [column: string, key: keyof UserRecord]>;

// Compile-time check that USER_FIELDS names every UserRecord field (a new field must be added there).
const everyUserField: Exclude<keyof UserRecord, (typeof USER_FIELDS)[number][1]> extends never
  ? true
  : never = true;
void everyUserField;

/** A UserProfile's fields: the token paths never load the password hash. */
const PROFILE_FIELDS = USER_FIELDS.filter(([column]) => column !== 'password_hash');

type Fields = ReadonlyArray<readonly [column: string, key: keyof UserRecord]>;

/** A select list of `fields` under their camelCase names, each prefixed with `keyPrefix`. */
function selectList(fields: Fields, tableAlias: string, keyPrefix: string): string {
  const table = tableAlias ? `${tableAlias}.` : '';
  return fields.map(([column, key]) => `${table}${column} AS "${keyPrefix}${key}"`).join(', ');
}

/** The `fields` of a row whose keys are the field names, each prefixed with `keyPrefix`. */
function pick(
  fields: Fields,
  row: Record<string, unknown>,
  keyPrefix: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [, key] of fields) out[key] = row[`${keyPrefix}${key}`];
  return out;
}

/** A whole UserRecord's select list (the login path, which checks the password hash). */
export const USER_COLUMNS = userColumns('', '');

/**
 * A select list of a UserProfile's columns (all but the password hash), each prefixed with
 * `keyPrefix` (for joins whose other table has columns of the same names), for the token
 * paths' look-ups that go through the prepared-statement path (Database.sql) instead of Prisma.
 */
export function profileColumns(tableAlias: string, keyPrefix: string): string {
  return selectList(PROFILE_FIELDS, tableAlias, keyPrefix);
}

/** A whole UserRecord's select list, prefixed like profileColumns (the login's one statement joins it to its counters). */
export function userColumns(tableAlias: string, keyPrefix: string): string {
  return selectList(USER_FIELDS, tableAlias, keyPrefix);
}

/** The user of a row selected with userColumns(alias, prefix); null when the join found none. */
export function userFromPrefixedRow(
  row: Record<string, unknown>,
  keyPrefix: string,
): UserRecord | null {
  return row[`${keyPrefix}id`] == null
    ? null
    : (pick(USER_FIELDS, row, keyPrefix) as unknown as UserRecord);
}

/** The user of a row selected with profileColumns(alias, prefix); null when the join found none. */
export function profileFromPrefixedRow(
  row: Record<string, unknown>,
  keyPrefix: string,
): UserProfile | null {
  return row[`${keyPrefix}id`] == null
    ? null
    : (pick(PROFILE_FIELDS, row, keyPrefix) as unknown as UserProfile);
}

/** The UserRecord of a Prisma user or of a row selected with USER_COLUMNS. */
export function toRecord(u: User | UserRecord): UserRecord {
  return pick(USER_FIELDS, u as unknown as Record<string, unknown>, '') as unknown as UserRecord;
}

export class PrismaUserRepository implements UserRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlExecutor,
  ) {}

  async create(user: NewUser): Promise<UserRecord> {
    const row = await this.prisma.user.create({
      data: {
        id: randomUUID(),
        email: normalizeEmail(user.email),
        passwordHash: user.passwordHash,
        name: user.name ?? null,
        givenName: user.givenName ?? null,
        familyName: user.familyName ?? null,
        emailVerified: user.emailVerified ?? false,
        verifyBeforeSignIn: user.verifyBeforeSignIn ?? false,
        roles: user.roles ?? [],
      },
    });
    return toRecord(row);
  }

  async findById(id: string): Promise<UserRecord | null> {
    if (!isUuid(id)) return null;
    const rows = await this.sql.query<UserRecord>(
      'users_by_id',
      `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`,
      [id],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findByEmail(email: string): Promise<UserRecord | null> {
    if (email.includes('\0')) return null; // PostgreSQL text cannot hold NUL: no such user
    const rows = await this.sql.query<UserRecord>(
      'users_by_email',
      `SELECT ${USER_COLUMNS} FROM users WHERE email = $1`,
      [normalizeEmail(email)],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(): Promise<UserRecord[]> {
    return (await this.prisma.user.findMany({ orderBy: { createdAt: 'asc' } })).map(toRecord);
  }

  async setDisabled(id: string, disabled: boolean, at: Date): Promise<void> {
    await this.prisma.user.update({
      where: { id },
      data: { disabled, disabledAt: disabled ? at : null },
    });
  }

  async updatePasswordHash(id: string, expected: string, next: string): Promise<void> {
    await this.prisma.user.updateMany({
      where: { id, passwordHash: expected },
      data: { passwordHash: next },
    });
  }

  async setPasswordHash(id: string, next: string, at: Date): Promise<void> {
    await this.prisma.user.update({ where: { id }, data: { passwordHash: next, updatedAt: at } });
  }

  async markEmailVerified(id: string, at: Date): Promise<boolean> {
    const { count } = await this.prisma.user.updateMany({
      where: { id, emailVerified: false },
      data: { emailVerified: true, updatedAt: at },
    });
    return count === 1;
  }

  async remove(id: string): Promise<void> {
    await this.prisma.user.deleteMany({ where: { id } });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
