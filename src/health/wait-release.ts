import { Injectable } from '@nestjs/common';

/**
 * Lets shutdown end the long polls that wait on their own timers (lyrics waits), so they
 * respond with their current state instead of having their connection cut.
 */
@Injectable()
export class WaitRelease {
  private released = false;
  private readonly sleepers = new Set<() => void>();

  get isReleased(): boolean {
    return this.released;
  }

  /** Ends every pending `sleep` now and makes later ones return at once; returns how many ended. */
  release(): number {
    this.released = true;
    const count = this.sleepers.size;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();

    return count;
  }

  /** Waits `ms`, or less when `release` runs first. */
  sleep(ms: number): Promise<void> {
    if (this.released) return Promise.resolve();

    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
