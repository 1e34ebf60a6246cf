// Prisma CLI configuration. Only `prisma generate` is used through the CLI here;
// migrations are authored and applied by scripts/migrate.ts through the schema engine's
// WebAssembly build (the native engine cannot be downloaded in every environment).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
