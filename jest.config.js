// Tests run as CommonJS through @swc/jest; jose (ESM only) and a few other ESM packages are
// transformed too. Two projects:
// - unit: no server, no database (pure functions, bare Koa middleware, in-memory fakes); runs in
//   seconds with `npm test -- --selectProjects unit`. A unit test may not start Tessera or open
//   a database (test/support/unit-guard.ts makes that fail loudly).
// - integration: everything else; starts the real app on a real database (see test/support).
//   Its globalSetup builds dist/ and the migrated template database, and runs only when at
//   least one integration test is selected.
/** @type {import('jest').Config} */
const esm = [
  'jose',
  '@prisma/schema-engine-wasm',
  'openid-client',
  'oauth4webapi',
  'fast-check',
  'pure-rand',
];

/** The unit tier, by path under test/. A new test that needs neither server nor database goes here. */
const unit = [
  'accounts/passwords',
  'bench/load',
  'clients/client-jwks',
  'clients/client-keys',
  'clients/client-metadata',
  'config/env-example',
  'config/load-config',
  'db/named-sql',
  'http/body',
  'keys/envelope',
  'keys/key-store-verify',
  'keys/plan',
  'keys/verified-cache',
  'oauth/authorization/pkce',
  'oauth/client-auth/client-cache',
  'oauth/client-auth/secret-cipher',
  'oauth/scope',
  'resource-server/dpop-proof',
  'resource-server/issuer-keys',
  'shared/outbound-fetch',
  'tokens/claims',
  'tokens/retry-seal',
].map((name) => `<rootDir>/test/${name}.test.ts`);

const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.(t|j|mj)sx?$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esm.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
};

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: unit,
      setupFiles: ['<rootDir>/test/support/unit-guard.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: [
        '/node_modules/',
        ...unit.map((p) => p.replace('<rootDir>/', '/').replace(/\./g, '\\.') + '$'),
      ],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
  // On the embedded database every test file migrates its own in-memory PGlite, which on a
  // busy 2-core machine can take most of a minute; PostgreSQL copies a migrated template.
  testTimeout: process.env.TEST_DATABASE_URL || process.env.DATABASE_URL ? 60_000 : 120_000,
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
  // A worker runs many files, each with its own in-memory PGlite on the embedded run; one that
  // has grown past this after a file is replaced, so the whole suite stays within a laptop's
  // memory (a worker reached 11.8 GB and was OOM-killed without it).
  workerIdleMemoryLimit: '2GB',
};
