/** Liveness and readiness probes. */
import type { Middleware } from 'koa';
import type { Services } from '../../services';
import type { AppState } from '../types';

/** GET /healthz: the process is alive (never touches the database). */
export function healthz(): Middleware<AppState> {
  return (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  };
}

/**
 * GET /readyz: the database answers and an active signing key is loaded for every algorithm
 * the server may be asked to sign with: each of SIGNING_ALGS and DEFAULT_SIGNING_ALG (what a
 * client without its own choice gets). Ready while one is missing would send traffic to an
 * instance whose token requests all fail.
 */
export function readyz(
  services: Pick<Services, 'db' | 'keyStore' | 'config'>,
  timeoutMs: number,
): Middleware<AppState> {
  const algs = [...new Set([...services.config.SIGNING_ALGS, services.config.DEFAULT_SIGNING_ALG])];
  return async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const canSign =
      services.keyStore.isReady() &&
      algs.every((alg) => services.keyStore.activeKid(alg) !== undefined);
    const checks = { database: 'ok', signing_keys: canSign ? 'ok' : 'missing' };
    try {
      await withTimeout(services.db.ping(), timeoutMs);
    } catch {
      checks.database = 'unavailable';
    }
    const ready = checks.database === 'ok' && checks.signing_keys === 'ok';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks };
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}
