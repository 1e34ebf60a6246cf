/**
 * Tessera under test: seeded through the same admin modules the CLI uses (in this process,
 * before the server starts), then started as operators start it — what `npm start` runs:
 * compile (scripts/build.js), then `node dist/src/main.js` in production mode, a process of
 * its own — on the throw-away database.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { readFileSync } from 'node:fs';
import { createClient } from '../src/admin/clients';
import { createUser } from '../src/admin/users';
import { loadConfig } from '../src/config';
import { openServices } from '../src/server';
import { createLogger } from '../src/shared/logger';
import type { BenchOptions } from './options';
import { ROOT, startSpawned, type ServiceProcess } from './processes';
import type { DpopProofKey } from './load/dpop-proofs';
import type { Alg } from './load/spec';

export const AUDIENCE = 'https://api.bench.example';
export const USER_SCOPE = 'openid offline_access api:read';
export const SERVICE_SCOPE = 'api:read';

export interface BenchClient {
  alg: Alg;
  clientId: string;
  secret: string;
  /** `Authorization: Basic …` (client_secret_basic, RFC 6749 §2.3.1). */
  basic: string;
}

export interface BenchUser {
  email: string;
  password: string;
}

export interface TesseraSeed {
  clients: Record<Alg, BenchClient>;
  users: BenchUser[];
}

/** A DPoP client's ES256 key (RFC 9449 §4) and its thumbprint, which its tokens are bound to. */
export async function dpopProofKey(): Promise<{ key: DpopProofKey; jkt: string }> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = pair.publicKey.export({ format: 'jwk' });
  const key = { privateJwk: pair.privateKey.export({ format: 'jwk' }), publicJwk };
  return {
    key,
    jkt: await calculateJwkThumbprint(publicJwk),
  };
}

export function basicAuth(clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: form-urlencode each part before joining them.
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export function tesseraEnv(
  options: BenchOptions,
  databaseUrl: string,
  port: number,
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    ISSUER: `http://127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SIGNING_ALGS: 'RS256,ES256',
    LOG_LEVEL: 'warn',
    ARGON2_MEMORY_KIB: String(options.argon2.memoryCost),
    ARGON2_TIME_COST: String(options.argon2.timeCost),
    ARGON2_PARALLELISM: String(options.argon2.parallelism),
    WEB_CONCURRENCY: String(options.workers),
    UV_THREADPOOL_SIZE: String(options.threadPool),
    ...(options.dbPool ? { DB_POOL_SIZE: String(options.dbPool) } : {}),
    // The environment defaults `npm start` sets (MALLOC_ARENA_MAX), read from its script.
    ...serverTuning(),
  };
}

/**
 * The environment `npm start` sets (MALLOC_*), read from its script, with the experiments
 * passed through: TESSERA_NODE_OPTIONS (heap limits, GC flags) on the server alone, and glibc
 * malloc tuning (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, ...) as set.
 */
function serverTuning(): Record<string, string> {
  return {
    ...startScript().env,
    ...mallocTuning(),
    ...(process.env.TESSERA_NODE_OPTIONS ? { NODE_OPTIONS: process.env.TESSERA_NODE_OPTIONS } : {}),
  };
}

/**
 * glibc malloc's settings as the server gets them (the start script's MALLOC_* defaults, then
 * any set here). The argon2id limit runs under the same ones: they decide how argon2's 19 MiB
 * buffer is mapped, so the limit must hash the way the server does.
 */
export function mallocTuning(): Record<string, string> {
  const script = Object.entries(startScript().env).filter(([k]) => k.startsWith('MALLOC_'));
  const set = Object.entries(process.env).filter(
    (e): e is [string, string] => e[0].startsWith('MALLOC_') && e[1] !== undefined,
  );
  return Object.fromEntries([...script, ...set]);
}

/** The server's command line as the bench starts it, for the report's conditions. */
export function startCommand(): string {
  const env = Object.entries(serverTuning()).map(([k, v]) => `${k}=${v}`);
  return [...env, 'node', ...startScript().flags, 'dist/src/main.js'].join(' ');
}

/**
 * Migrates the database, creates keys, one client per alg and `userCount` users (connections
 * share them: only failed logins are throttled per account).
 */
export async function seedTessera(env: NodeJS.ProcessEnv, userCount: number): Promise<TesseraSeed> {
  const config = loadConfig(env);
  const services = await openServices(config, createLogger('warn'));
  try {
    const clients = {} as Record<Alg, BenchClient>;
    for (const alg of ['ES256', 'RS256'] as const) {
      const { client, secret } = await createClient(services, {
        name: `bench-${alg.toLowerCase()}`,
        firstParty: true,
        grantTypes: ['password', 'refresh_token', 'client_credentials'],
        scopes: ['openid', 'profile', 'email', 'offline_access', 'api:read'],
        audiences: [AUDIENCE],
        signingAlg: alg,
      });
      clients[alg] = {
        alg,
        clientId: client.id,
        secret: secret!,
        basic: basicAuth(client.id, secret!),
      };
    }
    const users: BenchUser[] = Array.from({ length: userCount }, (_, i) => ({
      email: `bench-${i}@bench.example`,
      password: `bench-password-${i}-${randomBytes(6).toString('hex')}`,
    }));
    // Four at a time: hashing is what takes the time here.
    for (let i = 0; i < users.length; i += 4) {
      await Promise.all(
        users
          .slice(i, i + 4)
          .map((u) =>
            createUser(services, { email: u.email, password: u.password, roles: ['user'] }),
          ),
      );
    }
    return { clients, users };
  } finally {
    await services.db.close();
  }
}

/**
 * What package.json's `start` script (`VAR=${VAR:-default} … node <flags> dist/src/main.js`)
 * sets: its environment defaults and its Node flags, so the server under test runs exactly as
 * operators get it from `npm start`.
 */
export function startScript(): { env: Record<string, string>; flags: string[] } {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as {
    scripts: { start: string };
  };
  const start = pkg.scripts.start;
  const m = /\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s+dist\/src\/main\.js\b/.exec(start);
  if (!m) throw new Error(`bench: cannot read the Node flags from the start script: ${start}`);
  const env = Object.fromEntries(
    [...start.matchAll(/\b([A-Z_]+)=\$\{\1:-([^}]*)\}/g)].map((d) => [d[1]!, d[2]!]),
  );
  return { env, flags: m[1]!.trim().split(/\s+/).filter(Boolean) };
}

export async function startTessera(
  env: NodeJS.ProcessEnv,
  options: BenchOptions,
): Promise<ServiceProcess> {
  const port = Number(env.PORT);
  execFileSync(process.execPath, [`${ROOT}/scripts/build.js`], { stdio: 'inherit' });
  const args = startScript().flags;
  if (options.cpuProf) args.push('--cpu-prof', `--cpu-prof-dir=${ROOT}/bench/results/profiles`);
  args.push('dist/src/main.js');
  return startSpawned(process.execPath, args, env, port, '/healthz');
}

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** Answers 404 when an endpoint is not there (yet): its scenarios are then skipped. */
export async function endpointExists(baseUrl: string, path: string): Promise<boolean> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
  });
  await res.arrayBuffer();
  return res.status !== 404 && res.status !== 405;
}

/** Logs `users` in through the password grant; returns their token responses. */
export async function passwordLogins(
  baseUrl: string,
  client: BenchClient,
  users: BenchUser[],
  concurrency = 8,
): Promise<{ access_token: string; refresh_token: string }[]> {
  const out = new Array<{ access_token: string; refresh_token: string }>(users.length);
  let next = 0;
  const lane = async () => {
    while (next < users.length) {
      const i = next++;
      const u = users[i]!;
      const res = await fetch(`${baseUrl}/token`, {
        method: 'POST',
        headers: {
          authorization: client.basic,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: form({
          grant_type: 'password',
          username: u.email,
          password: u.password,
          scope: USER_SCOPE,
        }),
      });
      const body = (await res.json()) as {
        access_token: string;
        refresh_token: string;
        error?: string;
      };
      if (res.status !== 200 || !body.refresh_token)
        throw new Error(
          `password login for seeding failed: HTTP ${res.status} ${body.error ?? 'no refresh_token'}`,
        );
      out[i] = body;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return out;
}
