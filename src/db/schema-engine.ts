/**
 * Loads Prisma's schema engine from its WebAssembly build.
 *
 * The Prisma CLI downloads a native schema engine on every migrate command, which is not
 * possible everywhere Tessera is built. The same engine ships on npm as WebAssembly; its ESM
 * entry imports a `.wasm` file that Node cannot import, so it is instantiated by hand here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';

type Bindgen = Record<string, unknown> & {
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
  SchemaEngine: SchemaEngineClass;
};

export interface SchemaEngineClass {
  new: (
    options: { datamodels: [string, string][] },
    log: (msg: string) => void,
    adapter: object,
  ) => Promise<SchemaEngine>;
}

/** The subset of the engine's API Tessera uses. */
export interface SchemaEngine {
  applyMigrations(input: {
    migrationsList: MigrationList;
    filters: SchemaFilter;
  }): Promise<{ appliedMigrationNames: string[] }>;
  diff(params: DiffParams): Promise<{ exitCode: number; stdout: string | null }>;
  diagnoseMigrationHistory(input: {
    migrationsList: MigrationList;
    optInToShadowDatabase: boolean;
    filters: SchemaFilter;
  }): Promise<unknown>;
  free(): void;
}

export interface SchemaFilter {
  externalTables: string[];
  externalEnums: string[];
}

export interface MigrationList {
  baseDir: string;
  lockfile: { path: string; content: string | null };
  shadowDbInitScript: string;
  migrationDirectories: {
    path: string;
    migrationFile: { path: string; content: { tag: 'ok'; value: string } };
  }[];
}

export type DiffTarget =
  | { tag: 'empty' }
  | { tag: 'schemaDatamodel'; files: { path: string; content: string }[] }
  | ({ tag: 'migrations' } & MigrationList);

export interface DiffParams {
  from: DiffTarget;
  to: DiffTarget;
  script: boolean;
  exitCode: boolean;
  shadowDatabaseUrl: null;
  filters: SchemaFilter;
}

export const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

let bindgen: Promise<Bindgen> | undefined;

async function loadBindgen(): Promise<Bindgen> {
  const load = createRequire(__filename);
  const bgPath = load.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  // The package is ESM; Node 20.19+ can require() it.
  const bg = load(bgPath) as Bindgen;
  const bytes = readFileSync(join(dirname(bgPath), 'schema_engine_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, {
    './schema_engine_bg.js': bg as WebAssembly.ModuleImports,
  });
  bg.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bg;
}

/** Opens a schema engine over a migration-aware driver adapter (pg or PGlite). */
export async function openSchemaEngine(
  schema: { path: string; content: string },
  adapter: SqlMigrationAwareDriverAdapterFactory,
  log: (msg: string) => void = () => {},
): Promise<SchemaEngine> {
  bindgen ??= loadBindgen();
  const bg = await bindgen;
  // The engine calls the factory's methods unbound; the wrapper binds them and captures errors.
  return bg.SchemaEngine.new(
    { datamodels: [[schema.path, schema.content]] },
    log,
    bindMigrationAwareSqlAdapterFactory(adapter),
  );
}
