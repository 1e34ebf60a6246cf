import { migrationDrift } from '../../src/db/migrations';

describe('prisma/schema.prisma and prisma/migrations', () => {
  it('agree (after a schema change run: npm run db:migration -- <name>)', async () => {
    await expect(migrationDrift()).resolves.toBeNull();
  });
});
