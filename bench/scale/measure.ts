/**
 * The scale run's measurements: the same hot scenarios on a fresh empty database, on one
 * bulk-loaded to the stated volume, and on the empty one again (so a loaded/empty ratio
 * compares the loaded pass with the mean of the empty passes on either side of it: a shared
 * machine drifts), then client_credentials and refresh with WEB_CONCURRENCY=2 beside the same
 * scenarios with 1, on the empty database, back to back.
 */
import pg from 'pg';
import { createClient } from '../../src/admin/clients';
import { loadConfig } from '../../src/config';
import { openServices } from '../../src/server';
import { createLogger } from '../../src/shared/logger';
import type { LoadResult } from '../load/spec';
import type { BenchOptions } from '../options';
import { argon2Rates, load } from '../phases';
import { freePort, RssSampler } from '../processes';
import * as S from '../scenarios';
import {
  passwordLogins,
  seedTessera,
  SERVICE_SCOPE,
  startTessera,
  tesseraEnv,
  USER_SCOPE,
  type BenchUser,
  type TesseraSeed,
} from '../tessera';
import { BROWSER_REDIRECT, runBrowserLogins } from './browser-login';
import { insertRevocationTargets, SCALE_PASSWORD, scaleUserEmail, type Volumes } from './load-data';

const HOST = '127.0.0.1';
export const log = (msg: string) => process.stdout.write(`[bench:scale] ${msg}\n`);

/** The scenarios measured on each database, in order. */
export const SCALE_SCENARIOS = [
  'client-credentials',
  'refresh',
  'introspection',
  'revocation',
  'password',
  'browser-login',
] as const;
export type ScaleScenario = (typeof SCALE_SCENARIOS)[number];

export interface PassResult {
  label: string;
  workers: number;
  scenarios: Partial<Record<ScaleScenario, LoadResult>>;
  /** The argon2id verify limit (best in-flight count), before and after the password scenario. */
  argon2PerSec?: number;
  peakRssMB?: number;
}

/** A seeded database: the bench's clients and users, plus a first-party browser client. */
export interface ScaleDatabase {
  url: string;
  env: NodeJS.ProcessEnv;
  seed: TesseraSeed;
  browserClientId: string;
  /** The user the revocation targets belong to. */
  userId: string;
  /** Users the password and browser-login scenarios log in (the middle of the table when loaded). */
  loginUsers: BenchUser[];
}

export async function seedScaleDatabase(
  options: BenchOptions,
  url: string,
): Promise<ScaleDatabase> {
  const env = tesseraEnv(options, url, await freePort());
  const seed = await seedTessera(env, 16);
  const services = await openServices(loadConfig(env), createLogger('warn'));
  let browserClientId: string;
  try {
    const { client } = await createClient(services, {
      name: 'bench-browser',
      firstParty: true,
      grantTypes: ['authorization_code'],
      redirectUris: [BROWSER_REDIRECT],
      scopes: ['openid'],
      signingAlg: 'ES256',
    });
    browserClientId = client.id;
  } finally {
    await services.db.close();
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [
      seed.users[0]!.email,
    ]);
    return { url, env, seed, browserClientId, userId: rows[0]!.id, loginUsers: seed.users };
  } finally {
    await db.end();
  }
}

/** After the bulk load: log in users from the middle of the users table. */
export function middleUsers(volumes: Volumes, count: number): BenchUser[] {
  const mid = Math.floor(volumes.users / 2);
  return Array.from({ length: Math.min(count, volumes.users) }, (_, i) => ({
    email: scaleUserEmail(mid + i),
    password: SCALE_PASSWORD,
  }));
}

/** Enough revocation targets for the scenario's warm-up and window at a generous rate. */
const targetCount = (o: BenchOptions) =>
  Math.ceil(((o.warmupMs + o.durationMs) / 1000 + 5) * (o.quick ? 3000 : 5000));

let passNumber = 0;

/** Starts Tessera on `db` with `workers` processes and runs `scenarios` against it. */
export async function measurePass(
  options: BenchOptions,
  db: ScaleDatabase,
  label: string,
  workers: number,
  scenarios: readonly ScaleScenario[],
): Promise<PassResult> {
  const o = { ...options, workers };
  const pass = ++passNumber;
  const port = await freePort();
  const env = {
    ...db.env,
    PORT: String(port),
    ISSUER: `http://${HOST}:${port}`,
    WEB_CONCURRENCY: String(workers),
  };
  const revocationTokens = scenarios.includes('revocation')
    ? await insertRevocationTargets(db.url, {
        clientId: db.seed.clients.ES256.clientId,
        userId: db.userId,
        prefix: `bench-revoke-${pass}`,
        count: targetCount(o),
      })
    : [];
  log(`${label}: starting Tessera (WEB_CONCURRENCY=${workers}) on port ${port}`);
  const server = await startTessera(env, o);
  const rss = new RssSampler(server.pid);
  const target = { host: HOST, port };
  const base = `http://${HOST}:${port}`;
  const es = db.seed.clients.ES256;
  const result: PassResult = { label, workers, scenarios: {} };
  const named = (s: ScaleScenario) => `${label}/${s}`;
  try {
    for (const s of scenarios) {
      switch (s) {
        case 'client-credentials':
          result.scenarios[s] = (
            await load(
              S.clientCredentialsScenario(o, named(s), target, es.basic, 'ES256', SERVICE_SCOPE),
              rss,
            )
          ).result;
          break;
        case 'refresh': {
          const users = Array.from(
            { length: o.connections },
            (_, i) => db.seed.users[i % db.seed.users.length]!,
          );
          const logins = await passwordLogins(base, es, users);
          result.scenarios[s] = (
            await load(
              S.refreshScenario(
                o,
                named(s),
                target,
                es.basic,
                'ES256',
                logins.map((l) => l.refresh_token),
                true,
              ),
              rss,
            )
          ).result;
          break;
        }
        case 'introspection': {
          const [login] = await passwordLogins(base, es, db.seed.users.slice(0, 1), 1);
          result.scenarios[s] = (
            await load(
              S.introspectionScenario(o, named(s), target, es.basic, login!.access_token),
              rss,
            )
          ).result;
          break;
        }
        case 'revocation':
          result.scenarios[s] = (
            await load(revocationScenario(o, named(s), target, es.basic, revocationTokens), rss)
          ).result;
          if (result.scenarios[s].requests > revocationTokens.length)
            log(
              `  note: ${revocationTokens.length} targets for ${result.scenarios[s].requests} revocations (wrapped)`,
            );
          break;
        case 'password': {
          const timing = {
            warmupMs: 500,
            durationMs: Math.max(1000, Math.round(o.limitDurationMs / 2)),
          };
          const before = await argon2Rates(o, ` before ${label}/password`, timing);
          result.scenarios[s] = (
            await load(
              S.passwordScenario(o, named(s), target, es.basic, 'ES256', db.loginUsers, USER_SCOPE),
              rss,
            )
          ).result;
          const after = await argon2Rates(o, ` after ${label}/password`, timing);
          result.argon2PerSec = Math.max(
            ...Object.keys(before).map((k) => Math.round(((before[k]! + after[k]!) / 2) * 10) / 10),
          );
          break;
        }
        case 'browser-login': {
          log(
            `${named(s)}: 8 lanes, warm-up ${o.warmupMs / 1000} s, then ${o.durationMs / 1000} s`,
          );
          const r = await runBrowserLogins({
            name: named(s),
            baseUrl: base,
            clientId: db.browserClientId,
            users: db.loginUsers.slice(0, 8),
            warmupMs: o.warmupMs,
            durationMs: o.durationMs,
          });
          log(
            `  ${r.rps} logins/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}${r.errorSamples.length ? ` (${r.errorSamples.join(' | ')})` : ''}`,
          );
          result.scenarios[s] = r;
          break;
        }
      }
    }
    rss.sample();
    result.peakRssMB = rss.hwmMB();
  } finally {
    rss.stop();
    await server.stop();
  }
  return result;
}

/** RFC 7009 §2.1 revocation of a live refresh token (its whole family), a different one per request. */
function revocationScenario(
  options: BenchOptions,
  name: string,
  target: S.Target,
  basic: string,
  tokens: string[],
) {
  const spec = S.introspectionScenario(options, name, target, basic, '');
  return {
    ...spec,
    request: {
      kind: 'fixed' as const,
      method: 'POST' as const,
      path: '/revoke',
      headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
      bodies: tokens.map((t) =>
        new URLSearchParams({ token: t, token_type_hint: 'refresh_token' }).toString(),
      ),
      eachBodyOnce: true,
    },
    check: { status: 200, body: 'none' as const },
  };
}
