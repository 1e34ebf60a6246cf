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

/** GET /readyz: the database answers and a signing key is loaded for every configured algorithm. */
export function readyz(services: Pick<Services, 'db' | 'keyStore'>, timeoutMs: number): Middleware<AppState> {
  return async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const checks = { database: 'ok', signing_keys: services.keyStore.isReady() ? 'ok' : 'missing' };
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
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
