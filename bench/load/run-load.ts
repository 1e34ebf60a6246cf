/**
 * Runs one load scenario: N keep-alive connections in a closed loop, a warm-up (at least
 * warmupMs and warmupRequests correct answers, at most warmupMaxMs), then a measured window.
 * Only responses that complete inside the window count towards req/s and latency; errors
 * count in both phases (a server that fails while warming up is broken).
 */
import { performance } from 'node:perf_hooks';
import { buildRequest, RawConnection, type RawResponse } from './connection';
import { DpopProofMaker } from './dpop-proofs';
import { checkBody, type LoadResult, type LoadSpec } from './spec';

class Latencies {
  private data = new Float64Array(1 << 16);
  length = 0;
  push(ms: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = ms;
  }
  sorted(): Float64Array {
    return this.data.subarray(0, this.length).sort();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const host = `${spec.host}:${spec.port}`;
  const plan = spec.request;
  const latencies = new Latencies();
  const errorSamples = new Set<string>();
  let errors = 0;
  let bodiesChecked = 0;
  let responses = 0;
  let rotations = 0;
  let stopping = false;

  const fail = (what: string) => {
    errors++;
    if (errorSamples.size < 5) errorSamples.add(what);
  };

  // Pre-built requests for fixed plans: building bytes is not what we measure.
  const fixed =
    plan.kind === 'fixed'
      ? Array.from({ length: spec.connections }, (_, i) =>
          buildRequest({
            method: plan.method,
            path: plan.path,
            host,
            headers: plan.headers,
            body: plan.bodies ? plan.bodies[i % plan.bodies.length] : undefined,
          }),
        )
      : [];
  const chainTokens = plan.kind === 'refresh-chain' ? [...plan.initialTokens] : [];
  if (plan.kind === 'refresh-chain' && chainTokens.length < spec.connections)
    throw new Error(
      `${spec.name}: ${chainTokens.length} initial tokens for ${spec.connections} connections`,
    );

  const proofs =
    plan.kind === 'dpop' ? new DpopProofMaker(plan.key, plan.method, plan.htu) : undefined;

  let nextBody = 0;
  const requestFor = (i: number): Buffer => {
    if (plan.kind === 'fixed' && plan.eachBodyOnce && plan.bodies?.length)
      return buildRequest({
        method: plan.method,
        path: plan.path,
        host,
        headers: plan.headers,
        body: plan.bodies[nextBody++ % plan.bodies.length],
      });
    if (plan.kind === 'fixed') return fixed[i]!;
    if (plan.kind === 'dpop')
      return buildRequest({
        method: plan.method,
        path: plan.path,
        host,
        headers: { ...plan.headers, DPoP: proofs!.next() },
        body: plan.body,
      });
    const body = `grant_type=refresh_token&refresh_token=${encodeURIComponent(chainTokens[i]!)}${plan.extraParams}`;
    return buildRequest({ method: 'POST', path: plan.path, host, headers: plan.headers, body });
  };

  const start = performance.now();
  const cpuStart = process.cpuUsage();
  // The window opens when the warm-up is over (openWindow), then lasts durationMs.
  let measureStart = Infinity;
  let measureEnd = Infinity;

  const conns = await Promise.all(
    Array.from({ length: spec.connections }, () => RawConnection.open(spec.host, spec.port)),
  );

  /** Checks one answer: 'ok', 'error' (counted; a fixed plan carries on) or 'stop' (a broken chain). */
  const handle = (i: number, res: RawResponse): 'ok' | 'error' | 'stop' => {
    const bad = (what: string) => {
      fail(what);
      return plan.kind === 'refresh-chain' ? 'stop' : 'error';
    };
    if (res.status !== spec.check.status)
      return bad(`HTTP ${res.status}: ${res.body.toString('utf8', 0, 200)}`);
    responses++;
    const mustParse =
      plan.kind === 'refresh-chain' || spec.sampleEvery === 1 || responses % spec.sampleEvery === 1;
    if (!mustParse) return 'ok';
    let body: unknown;
    try {
      body = spec.check.body === 'none' ? null : JSON.parse(res.body.toString('utf8'));
    } catch {
      return bad('body is not JSON');
    }
    bodiesChecked++;
    const problem = checkBody(spec.check, body, chainTokens[i]);
    if (problem) return bad(problem);
    if (plan.kind === 'refresh-chain') {
      chainTokens[i] = (body as { refresh_token: string }).refresh_token;
      rotations++;
    }
    return 'ok';
  };

  await new Promise<void>((resolve) => {
    let active = spec.connections;
    const finish = () => {
      if (--active === 0) resolve();
    };
    const loop = (i: number) => {
      if (stopping) return finish();
      const t0 = performance.now();
      conns[i]!.send(requestFor(i), (err, res) => {
        const t1 = performance.now();
        if (err) {
          fail(err.message);
          if (stopping || plan.kind === 'refresh-chain') return finish();
          // Reconnect and carry on (the error is counted; the run is failed anyway).
          RawConnection.open(spec.host, spec.port).then(
            (c) => {
              conns[i] = c;
              setImmediate(loop, i);
            },
            () => finish(),
          );
          return;
        }
        const outcome = handle(i, res!);
        if (
          measureStart === Infinity &&
          outcome === 'ok' &&
          responses >= spec.warmupRequests &&
          t1 - start >= spec.warmupMs
        )
          openWindow(t1);
        // Only correct answers count towards throughput and latency.
        if (outcome === 'ok' && t1 >= measureStart && t1 <= measureEnd) latencies.push(t1 - t0);
        if (outcome === 'stop') return finish();
        loop(i);
      });
    };
    const openWindow = (at: number) => {
      if (measureStart !== Infinity) return;
      measureStart = at;
      measureEnd = at + spec.durationMs;
      setTimeout(() => {
        stopping = true;
      }, spec.durationMs).unref();
      // Requests still in flight long after the window are abandoned.
      setTimeout(() => {
        if (active > 0) {
          fail(`${active} requests unanswered 10 s after the run`);
          active = 1;
          finish();
        }
      }, spec.durationMs + 10_000).unref();
    };
    setTimeout(() => {
      if (responses >= spec.warmupRequests) openWindow(performance.now());
    }, spec.warmupMs).unref();
    setTimeout(
      () => openWindow(performance.now()),
      Math.max(spec.warmupMs, spec.warmupMaxMs),
    ).unref();
    for (let i = 0; i < spec.connections; i++) loop(i);
  });
  for (const c of conns) c.close();
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - start;

  if (latencies.length === 0) fail('no correct response completed inside the measured window');
  const sorted = latencies.sorted();
  const seconds = spec.durationMs / 1000;
  return {
    name: spec.name,
    connections: spec.connections,
    requests: sorted.length,
    seconds,
    rps: round(sorted.length / seconds, 1),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.length ? sorted[sorted.length - 1]! : 0),
    errors,
    errorSamples: [...errorSamples],
    bodiesChecked,
    generatorCpu: round((cpu.user + cpu.system) / 1000 / wallMs),
    warmupMs: Math.round(measureStart - start),
    ...(plan.kind === 'refresh-chain'
      ? { meanChainLength: round(rotations / spec.connections, 1) }
      : {}),
  };
}
