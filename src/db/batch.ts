/**
 * Batches independent look-ups made at about the same time into one statement: each call to
 * `load(key)` waits until the event loop has finished the I/O callbacks in hand (setImmediate:
 * every request that arrived in the same turn of the loop), then one `run(keys)` answers all of
 * them. Under load that turns N round trips — N statements for PostgreSQL to plan and execute,
 * N socket writes and N results to parse on the main thread — into one; when idle, a look-up
 * waits for nothing but the end of the current turn.
 *
 * At most `maxInFlight` batches run at once; while they do, further keys gather into the next
 * batch (so the batch grows with the load instead of the pool's queue). A failed batch rejects
 * each of its callers with the same error (each request then fails as a single look-up would).
 */
export interface BatchOptions {
  /** Most keys in one batch (one statement's array parameters). */
  maxBatch?: number;
  /** Most batches running at once. */
  maxInFlight?: number;
}

interface Waiter<K, V> {
  key: K;
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
}

export class Batcher<K, V> {
  private queue: Array<Waiter<K, V>> = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  /** `run` answers the keys in order: one value per key, the same length. */
  constructor(
    private readonly run: (keys: K[]) => Promise<V[]>,
    options: BatchOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 4);
  }

  load(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.queue.push({ key, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async execute(batch: Array<Waiter<K, V>>): Promise<void> {
    let values: V[];
    try {
      values = await this.run(batch.map((w) => w.key));
      if (values.length !== batch.length)
        throw new Error(`batch answered ${values.length} of ${batch.length} keys`);
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => w.resolve(values[i]!));
  }
}
