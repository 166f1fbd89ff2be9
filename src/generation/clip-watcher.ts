import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../observability/metrics.service';
import { AccountsService } from '../session/accounts.service';
import { Clip } from '../suno/clip';
import { StudioApi } from '../suno/studio.api';
import { Generation, generationStatus, isFinished } from './generation';
import { Reconciler } from './reconciler';

/** Feed calls take at most this many ids, to keep URLs short. */
const FEED_BATCH = 20;
/** Feed calls in flight at once per account while polling. */
const FEED_CONCURRENCY = 4;
/** Event that ends every wait at once; see `releaseWaiters`. */
const RELEASE = Symbol('release waiters');

/**
 * Polls the upstream for every unfinished generation, one feed call per account and batch
 * of clips per interval, however many callers wait. Callers subscribe to changes instead of
 * polling themselves, so 1,000 waits cost the same upstream traffic as one per batch.
 */
@Injectable()
export class ClipWatcher implements OnApplicationShutdown {
  private readonly logger = new Logger('ClipWatcher');
  private readonly watched = new Map<string, Generation>();
  private readonly onFinish = new Map<string, () => void>();
  private readonly events = new EventEmitter().setMaxListeners(0);
  private timer?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;
  private released = false;

  constructor(
    private readonly studio: StudioApi,
    private readonly accounts: AccountsService,
    private readonly reconciler: Reconciler,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Watches a generation until it finishes; `finished` runs once then (releases its slot). */
  watch(generation: Generation, finished?: () => void): void {
    if (isFinished(generationStatus(generation))) {
      finished?.();

      return;
    }
    this.watched.set(generation.id, generation);
    if (finished) this.onFinish.set(generation.id, finished);
    this.schedule();
  }

  /**
   * Resolves when `done` holds for the generation, after `budgetMs`, or when `releaseWaiters`
   * runs, whichever is first. Resolves to true only when `done` held.
   */
  waitUntil(
    generation: Generation,
    done: (g: Generation) => boolean,
    budgetMs: number,
  ): Promise<boolean> {
    if (done(generation)) return Promise.resolve(true);
    if (this.released) return Promise.resolve(false);

    return new Promise((resolve) => {
      const listener = () => {
        if (!done(generation)) return;
        cleanup();
        resolve(true);
      };
      const release = () => {
        cleanup();
        resolve(done(generation));
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(false);
      }, budgetMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off(generation.id, listener);
        this.events.off(RELEASE, release);
      };
      this.events.on(generation.id, listener);
      this.events.on(RELEASE, release);
    });
  }

  /**
   * Ends every wait now and makes later waits return at once, so callers respond with the
   * current state (202 with the clips so far). Shutdown calls it when its wait cap ends.
   * Returns how many waits were ended.
   */
  releaseWaiters(): number {
    this.released = true;
    const waiting = this.events.listenerCount(RELEASE);
    this.events.emit(RELEASE);

    return waiting;
  }

  get size(): number {
    return this.watched.size;
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.watched.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pollOnce().finally(() => this.schedule());
    }, this.config.generation.pollIntervalMs);
    this.timer.unref();
  }

  private async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const byAccount = new Map<string, Generation[]>();
      for (const generation of this.watched.values()) {
        const list = byAccount.get(generation.accountId) ?? [];
        list.push(generation);
        byAccount.set(generation.accountId, list);
      }
      await Promise.all(
        [...byAccount].map(([accountId, generations]) => this.pollAccount(accountId, generations)),
      );
    } finally {
      this.polling = false;
    }
  }

  private async pollAccount(accountId: string, generations: Generation[]): Promise<void> {
    const account = this.accounts.get(accountId);
    if (!account) return;
    const known = generations.filter((g) => g.clips.length > 0);
    const unknown = generations.filter((g) => g.clips.length === 0);
    try {
      if (unknown.length > 0) await this.reconciler.findMissing(account, unknown);
      const ids = known.flatMap((g) =>
        g.clips.filter((c) => c.status !== 'complete' && c.status !== 'error').map((c) => c.id),
      );
      const fresh = await this.fetchClips(account, ids);
      for (const generation of generations) this.update(generation, fresh);
    } catch (err) {
      this.logger.warn(
        { account: accountId, err },
        `polling clips of ${accountId} failed; retrying next interval`,
      );
      for (const generation of generations) this.update(generation, new Map());
    }
  }

  private async fetchClips(
    account: Parameters<StudioApi['feed']>[0],
    ids: string[],
  ): Promise<Map<string, Clip>> {
    const found = new Map<string, Clip>();
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += FEED_BATCH) batches.push(ids.slice(i, i + FEED_BATCH));
    // A few feed calls at a time: 1,000 waits are 100 batches, and one after another they
    // delayed the last songs by seconds, while all at once they would burst the upstream.
    await forEachLimited(batches, FEED_CONCURRENCY, async (batch) => {
      for (const clip of await this.studio.feed(account, batch)) found.set(clip.id, clip);
    });
    // The batch feed has been seen to omit errored clips; ask for those one by one.
    for (const id of ids.filter((id) => !found.has(id))) {
      found.set(id, await this.studio.clip(account, id));
    }

    return found;
  }

  private update(generation: Generation, fresh: Map<string, Clip>): void {
    const before = generationStatus(generation);
    generation.clips = generation.clips.map((c) => fresh.get(c.id) ?? c);
    if (
      !generation.timedOut &&
      Date.now() - generation.submittedAtMs > this.config.generation.maxAgeMs
    )
      generation.timedOut = true;
    const after = generationStatus(generation);
    if (isFinished(after)) this.finish(generation, after);
    if (after !== before || fresh.size > 0) this.events.emit(generation.id);
  }

  private finish(generation: Generation, status: string): void {
    generation.finishedAt = new Date();
    this.watched.delete(generation.id);
    this.metrics.m.generationDuration.observe(
      { status },
      (Date.now() - generation.submittedAtMs) / 1000,
    );
    const degraded = generation.clips.filter((c) => c.suspect_degraded).length;
    if (degraded > 0) {
      this.metrics.m.degradedClips.inc({ account: generation.accountId }, degraded);
      this.logger.warn(
        { account: generation.accountId, generation_id: generation.id, degraded_clips: degraded },
        `account ${generation.accountId} got ${degraded} clip(s) with the spoken warning of flagged accounts`,
      );
    }
    const finished = this.onFinish.get(generation.id);
    this.onFinish.delete(generation.id);
    finished?.();
  }
}

/** Runs `task` over `items` with at most `limit` running at once; rejects on the first failure. */
async function forEachLimited<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
