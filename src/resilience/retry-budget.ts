/** Settings of a retry budget, filled by the service from the `resilience` config. */
export interface RetryBudgetOptions {
  /** Length of the sliding window, in milliseconds. */
  windowMs: number;
  /** Share of the window's logical calls that may be retried, e.g. 0.1. */
  ratio: number;
  /** Retries allowed per window regardless of traffic, so a quiet account can still retry. */
  minRetries: number;
  /** Number of buckets the window is split into. More buckets expire counts more smoothly. */
  bucketCount?: number;
  now?: () => number;
}

const DEFAULT_BUCKET_COUNT = 10;

/**
 * Caps retries at a share of recent traffic, so an outage is not amplified by every caller
 * retrying. Counts live in a fixed ring of time buckets, so memory stays constant however
 * busy the account is. Whole buckets leave the window at once, so a count expires between
 * `bucketCount − 1` and `bucketCount` bucket widths after it was recorded. A bucket width is
 * `windowMs / bucketCount`, rounded up to whole milliseconds.
 */
export class RetryBudget {
  private readonly bucketMs: number;
  private readonly bucketCount: number;
  private readonly now: () => number;
  /** Time bucket index stored in each slot. A slot from an older bucket is cleared on next use. */
  private readonly epochs: number[];
  private readonly calls: number[];
  private readonly retries: number[];

  constructor(private readonly options: RetryBudgetOptions) {
    this.bucketCount = options.bucketCount ?? DEFAULT_BUCKET_COUNT;
    this.bucketMs = Math.max(1, Math.ceil(options.windowMs / this.bucketCount));
    this.now = options.now ?? (() => Date.now());
    this.epochs = new Array<number>(this.bucketCount).fill(Number.NEGATIVE_INFINITY);
    this.calls = new Array<number>(this.bucketCount).fill(0);
    this.retries = new Array<number>(this.bucketCount).fill(0);
  }

  /** Records one logical call (not an attempt); each call raises the retry allowance. */
  recordCall(): void {
    this.calls[this.currentSlot()] += 1;
  }

  /**
   * Takes one retry from the budget. Returns false, and records nothing, when one more retry
   * would take the window's retries past max(minRetries, ratio × calls in the window).
   */
  tryAcquire(): boolean {
    const slot = this.currentSlot();
    const { calls, retries } = this.totals();
    const allowance = Math.max(this.options.minRetries, this.options.ratio * calls);
    if (retries + 1 > allowance) {
      return false;
    }

    this.retries[slot] += 1;

    return true;
  }

  /** Calls and retries counted in the current window. */
  totals(): { calls: number; retries: number } {
    const oldestEpoch = this.currentEpoch() - this.bucketCount + 1;
    let calls = 0;
    let retries = 0;
    for (let slot = 0; slot < this.bucketCount; slot++) {
      if (this.epochs[slot] >= oldestEpoch) {
        calls += this.calls[slot];
        retries += this.retries[slot];
      }
    }

    return { calls, retries };
  }

  private currentEpoch(): number {
    return Math.floor(this.now() / this.bucketMs);
  }

  /** Returns the slot of the current bucket, clearing it when it still contains an old bucket. */
  private currentSlot(): number {
    const epoch = this.currentEpoch();
    const slot = ((epoch % this.bucketCount) + this.bucketCount) % this.bucketCount;
    if (this.epochs[slot] !== epoch) {
      this.epochs[slot] = epoch;
      this.calls[slot] = 0;
      this.retries[slot] = 0;
    }

    return slot;
  }
}

/**
 * One lazily created {@link RetryBudget} per account, so an outage of one account spends
 * only that account's budget.
 */
export class RetryBudgets {
  private readonly byAccount = new Map<string, RetryBudget>();

  constructor(private readonly options: RetryBudgetOptions) {}

  /** Returns the account's budget, creating it on first use. */
  forAccount(accountId: string): RetryBudget {
    const existing = this.byAccount.get(accountId);
    if (existing) {
      return existing;
    }

    const budget = new RetryBudget(this.options);
    this.byAccount.set(accountId, budget);

    return budget;
  }
}
