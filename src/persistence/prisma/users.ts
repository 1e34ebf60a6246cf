import type { PrismaClient, User } from '../../generated/prisma/client';
import { randomUUID } from 'node:crypto';
import type { NewUser, UserRecord, UserRepository } from '../types';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toRecord(u: User): UserRecord {
  return {
    id: u.id,
    email: u.email,
    passwordHash: u.passwordHash,
    emailVerified: u.emailVerified,
    name: u.name,
    givenName: u.givenName,
    familyName: u.familyName,
    preferredUsername: u.preferredUsername,
    picture: u.picture,
    locale: u.locale,
    roles: u.roles,
    disabled: u.disabled,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

export class PrismaUserRepository implements UserRepository {
  constructor(private readonly prisma: PrismaClient) {}

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
        roles: user.roles ?? [],
      },
    });
    return toRecord(row);
  }

  async findById(id: string): Promise<UserRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.prisma.user.findUnique({ where: { id } });
    return row && toRecord(row);
  }

  async findByEmail(email: string): Promise<UserRecord | null> {
    const row = await this.prisma.user.findUnique({ where: { email: normalizeEmail(email) } });
    return row && toRecord(row);
  }

  async list(): Promise<UserRecord[]> {
    return (await this.prisma.user.findMany({ orderBy: { createdAt: 'asc' } })).map(toRecord);
  }

  async setDisabled(id: string, disabled: boolean, at: Date): Promise<void> {
    await this.prisma.user.update({ where: { id }, data: { disabled, disabledAt: disabled ? at : null } });
  }

  async updatePasswordHash(id: string, expected: string, next: string): Promise<void> {
    await this.prisma.user.updateMany({ where: { id, passwordHash: expected }, data: { passwordHash: next } });
  }

  async recordLogin(id: string, at: Date): Promise<void> {
    await this.prisma.user.update({ where: { id }, data: { lastLoginAt: at, failedLoginCount: 0 } });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
