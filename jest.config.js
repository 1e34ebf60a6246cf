// Tests run as CommonJS through @swc/jest; jose (ESM only) and a few other ESM packages are
// transformed too. Integration tests start the real app on a real database (see test/helpers).
/** @type {import('jest').Config} */
const esm = ['jose', '@prisma/schema-engine-wasm', 'openid-client', 'oauth4webapi', 'fast-check', 'pure-rand'];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esm.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 60_000,
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
};
