/** The clock every time-dependent decision reads, so tests can control time instead of sleeping. */
export interface Clock {
  now(): Date;
  /** Seconds since the epoch (JWT NumericDate). */
  epochSeconds(): number;
}

export const systemClock: Clock = {
  now: () => new Date(),
  epochSeconds: () => Math.floor(Date.now() / 1000),
};

/** A clock that starts at system time and can be moved forward by tests. */
export class AdjustableClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  epochSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}
