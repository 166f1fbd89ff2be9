import { Logger } from '@nestjs/common';
import { MetricsService } from '../observability/metrics.service';
import { UpstreamError } from '../suno/upstream-error';

/** Frees a bulkhead slot; calling it more than once is harmless. */
export type ReleaseFn = () => void;

export interface BulkheadsOptions {
  /** Generations one account may run at once. */
  limit: number;
  /** Callers that may wait for a slot per account; 0 rejects at once when full. */
  queueSize: number;
  /** Maximum wait for a slot, in ms. A caller's earlier deadline shortens it. */
  queueTimeoutMs: number;
  metrics: BulkheadMetrics;
  /**
   * Typical time a generation keeps its slot, in ms, used only to estimate `retryAfterMs`
   * of a rejection. Defaults to 60 s because songs take 30–120 s upstream.
   */
  expectedHoldMs?: number;
  now?: () => number;
}

/** The instrument of `MetricsService.m` that bulkheads write to. */
export type BulkheadMetrics = Pick<MetricsService['m'], 'bulkheadRejections'>;

/** One account's bulkhead, for status pages. */
export interface BulkheadSnapshot {
  accountId: string;
  inFlight: number;
  queued: number;
  limit: number;
}

interface Slot {
  startedAtMs: number;
}

interface Waiter {
  resolve: (release: ReleaseFn) => void;
  timer: NodeJS.Timeout;
}

interface AccountBulkhead {
  /** Insertion-ordered, so the first slot is the oldest running generation. */
  running: Set<Slot>;
  queue: Waiter[];
  /** Set after a rejection is logged; cleared when a slot frees, so a full spell logs once. */
  rejectionLogged: boolean;
}

const DEFAULT_EXPECTED_HOLD_MS = 60_000;
const MIN_RETRY_AFTER_MS = 1000;

/**
 * Per-account limit on running generations. The upstream caps running jobs, not open HTTP
 * requests, so a slot is held from submit until the generation ends and the caller releases
 * it explicitly.
 *
 * Written without cockatiel. Its `BulkheadPolicy` (3.2) keeps a slot only while a function
 * runs, and a queued call stays in its queue after its abort signal fires. So it can express
 * neither queue timeouts nor a slot that outlives the submit request.
 */
export class Bulkheads {
  private readonly logger = new Logger(Bulkheads.name);
  private readonly accounts = new Map<string, AccountBulkhead>();
  private readonly now: () => number;

  constructor(private readonly options: BulkheadsOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  /**
   * Takes a slot for the account, waiting in the queue when all are in use.
   *
   * @param deadlineMs epoch ms after which the caller no longer wants the slot.
   * @returns the function that frees the slot.
   * @throws UpstreamError of kind `bulkhead_full`, with an estimated `retryAfterMs`, when the
   *   queue is full or the wait for a slot times out.
   */
  async acquire(accountId: string, deadlineMs?: number): Promise<ReleaseFn> {
    const bulkhead = this.forAccount(accountId);
    if (bulkhead.running.size < this.options.limit && bulkhead.queue.length === 0) {
      return this.grant(bulkhead);
    }

    const waitMs = Math.min(
      this.options.queueTimeoutMs,
      (deadlineMs ?? Number.POSITIVE_INFINITY) - this.now(),
    );
    if (bulkhead.queue.length >= this.options.queueSize) {
      throw this.reject(accountId, bulkhead, 'all slots are in use and the queue is full');
    }
    if (waitMs <= 0) {
      throw this.reject(accountId, bulkhead, 'all slots are in use and the deadline has passed');
    }

    return new Promise<ReleaseFn>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          const index = bulkhead.queue.indexOf(waiter);
          if (index >= 0) {
            bulkhead.queue.splice(index, 1);
          }
          reject(this.reject(accountId, bulkhead, `no slot freed within ${waitMs} ms`));
        }, waitMs),
      };
      bulkhead.queue.push(waiter);
    });
  }

  /** Returns the number of generations the account is running. */
  inFlight(accountId: string): number {
    return this.accounts.get(accountId)?.running.size ?? 0;
  }

  /** Lists every account that has used its bulkhead. */
  snapshot(): BulkheadSnapshot[] {
    return [...this.accounts.entries()].map(([accountId, bulkhead]) => ({
      accountId,
      inFlight: bulkhead.running.size,
      queued: bulkhead.queue.length,
      limit: this.options.limit,
    }));
  }

  private forAccount(accountId: string): AccountBulkhead {
    const existing = this.accounts.get(accountId);
    if (existing) {
      return existing;
    }

    const bulkhead: AccountBulkhead = { running: new Set(), queue: [], rejectionLogged: false };
    this.accounts.set(accountId, bulkhead);

    return bulkhead;
  }

  private grant(bulkhead: AccountBulkhead): ReleaseFn {
    const slot: Slot = { startedAtMs: this.now() };
    bulkhead.running.add(slot);
    let released = false;

    return () => {
      if (released) {
        return;
      }
      released = true;
      bulkhead.running.delete(slot);
      bulkhead.rejectionLogged = false;
      this.dispatch(bulkhead);
    };
  }

  /** Hands free slots to waiters in arrival order. */
  private dispatch(bulkhead: AccountBulkhead): void {
    while (bulkhead.running.size < this.options.limit) {
      const waiter = bulkhead.queue.shift();
      if (!waiter) {
        return;
      }
      clearTimeout(waiter.timer);
      waiter.resolve(this.grant(bulkhead));
    }
  }

  private reject(accountId: string, bulkhead: AccountBulkhead, reason: string): UpstreamError {
    this.options.metrics.bulkheadRejections.inc({ account: accountId });
    const retryAfterMs = this.estimateRetryAfterMs(bulkhead);
    if (!bulkhead.rejectionLogged) {
      bulkhead.rejectionLogged = true;
      this.logger.warn(
        {
          event: 'bulkhead.rejected',
          account: accountId,
          in_flight: bulkhead.running.size,
          limit: this.options.limit,
        },
        `Bulkhead rejected a generation for account ${accountId} because ${reason}; ` +
          'further rejections are only counted until a slot frees',
      );
    }

    return new UpstreamError({
      kind: 'bulkhead_full',
      operation: 'generate',
      host: 'studio',
      message:
        `Rejected a generation for account ${accountId} because ${reason} ` +
        `(${bulkhead.running.size} of ${this.options.limit} slots in use)`,
      retryAfterMs,
    });
  }

  /**
   * Estimates when the oldest running generation frees its slot, from the typical hold time,
   * because the upstream's real finish time is unknown.
   * TODO: derive the hold time from observed generation durations instead of a fixed default.
   */
  private estimateRetryAfterMs(bulkhead: AccountBulkhead): number {
    const oldest = bulkhead.running.values().next();
    const expectedHoldMs = this.options.expectedHoldMs ?? DEFAULT_EXPECTED_HOLD_MS;
    if (oldest.done) {
      return MIN_RETRY_AFTER_MS;
    }

    return Math.max(MIN_RETRY_AFTER_MS, expectedHoldMs - (this.now() - oldest.value.startedAtMs));
  }
}
