/**
 * What the limit probes share: a closed-loop rate (`inFlight` lanes repeating an operation,
 * counting completions inside the measured window after a warm-up) and the child-process
 * protocol (parameters arrive as one IPC message, the result goes back as one, then exit).
 */
export interface ClosedLoop {
  inFlight: number;
  warmupMs: number;
  durationMs: number;
}

/** Completions per second of `op` within the measured window, rounded to 0.1. */
export async function closedLoopRate(p: ClosedLoop, op: () => Promise<unknown>): Promise<number> {
  const measureStart = Date.now() + p.warmupMs;
  const end = measureStart + p.durationMs;
  let counted = 0;
  const lane = async () => {
    while (Date.now() < end) {
      await op();
      const now = Date.now();
      if (now >= measureStart && now <= end) counted++;
    }
  };
  await Promise.all(Array.from({ length: p.inFlight }, lane));
  return Math.round((counted / p.durationMs) * 10_000) / 10;
}

/** Runs `measure` on the parameters the orchestrator sends and reports its result. */
export function serveProbe<P, R>(name: string, measure: (p: P) => Promise<R>): void {
  process.once('message', (p: P) => {
    measure(p).then(
      (r) => process.send!(r as object, () => process.exit(0)),
      (err: unknown) => {
        process.stderr.write(`${name} limit: ${String(err)}\n`);
        process.exit(1);
      },
    );
  });
}
