import { performance } from 'node:perf_hooks';

/** How often the monitor's timer runs; stalls are measured to about this precision. */
const TICK_MS = 20;

/**
 * Tracks the longest event-loop stall between two reads. A timer runs every TICK_MS, and any
 * extra time between two runs is a stall. Node's `monitorEventLoopDelay` is not used because
 * after `reset()` it drops the first interval (checked on Node 20), which would hide a stall
 * that begins right after a probe.
 */
export class EventLoopStallMonitor {
  private readonly timer: NodeJS.Timeout;
  private lastTickMs = performance.now();
  private maxStallMs = 0;

  constructor() {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Returns the longest stall in ms since the previous call, including one still open now. */
  takeMaxStallMs(): number {
    const now = performance.now();
    const stall = Math.max(this.maxStallMs, now - this.lastTickMs - TICK_MS);
    this.maxStallMs = 0;
    // The gap up to now is counted here, so the next tick must not count it again.
    this.lastTickMs = now;

    return Math.max(0, Math.round(stall));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    this.maxStallMs = Math.max(this.maxStallMs, now - this.lastTickMs - TICK_MS);
    this.lastTickMs = now;
  }
}
