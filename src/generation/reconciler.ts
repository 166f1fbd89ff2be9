import { Injectable, Logger } from '@nestjs/common';
import { MetricsService } from '../observability/metrics.service';
import { withSpan } from '../observability/tracing';
import { Attr } from '../observability/span-attributes';
import { Account } from '../session/account';
import { Clip } from '../suno/clip';
import { StudioApi } from '../suno/studio.api';
import { Generation, SubmitFingerprint } from './generation';
import { GenerationStore } from './generation.store';

/**
 * Most pages of newest clips (20 a page) one scan reads. A scan normally stops at the first
 * clip older than its lower bound; this cap only limits a burst of new clips.
 */
const MAX_PAGES = 10;
/** Clock skew allowed between our submit time and the upstream's `created_at`. */
const SKEW_MS = 10_000;

interface Scan {
  clips: Clip[];
  /** True when the scan reached a clip older than its lower bound or the end of the library. */
  complete: boolean;
}

export type ReconcileResult = 'adopted' | 'resubmitted' | 'unknown';

/**
 * Finds the clips of a submit whose response was lost, by reading the account's newest clips
 * and matching the request's text. Generation is not idempotent upstream, so this comes
 * before any resubmit.
 */
@Injectable()
export class Reconciler {
  private readonly logger = new Logger('Reconciler');
  /**
   * Per unknown generation, when the last complete scan that looked for it began. Clips created
   * before then were already checked against it, so the next scan need not read them again.
   */
  private readonly checkedUntilMs = new WeakMap<Generation, number>();

  constructor(
    private readonly studio: StudioApi,
    private readonly store: GenerationStore,
    private readonly metrics: MetricsService,
  ) {}

  /** Looks once for the generation's clips; adopts them when found. */
  async reconcile(account: Account, generation: Generation): Promise<boolean> {
    return withSpan(
      'generation.reconcile',
      { attributes: { [Attr.account]: account.id, [Attr.generationId]: generation.id } },
      async (span) => {
        const startedAtMs = Date.now();
        const scan = await this.recentSince(account, generation.submittedAtMs);
        const adopted = this.adopt(generation, scan.clips);
        if (!adopted && scan.complete) this.checkedUntilMs.set(generation, startedAtMs);
        span.setAttribute('suno.reconcile.adopted', adopted);

        return adopted;
      },
    );
  }

  /**
   * Called by the watcher for generations still unknown. Each scan reads back only to the
   * oldest clip not yet checked against some generation, so a long-unknown generation costs
   * about one page per poll rather than a read back to its submit.
   */
  async findMissing(account: Account, generations: Generation[]): Promise<void> {
    const startedAtMs = Date.now();
    const sinceMs = Math.min(
      ...generations.map((g) => this.checkedUntilMs.get(g) ?? g.submittedAtMs),
    );
    const scan = await this.recentSince(account, sinceMs);
    for (const generation of generations) {
      if (this.adopt(generation, scan.clips))
        this.record('adopted', generation, 'clips appeared after the submit timed out');
      else if (scan.complete) this.checkedUntilMs.set(generation, startedAtMs);
    }
  }

  record(result: ReconcileResult, generation: Generation, reason: string): void {
    this.metrics.m.reconciliations.inc({ result });
    const line = { generation_id: generation.id, account: generation.accountId, result, reason };
    if (result === 'adopted') this.logger.log(line, `reconciliation ${result}: ${reason}`);
    else this.logger.warn(line, `reconciliation ${result}: ${reason}`);
  }

  /** Reads the newest clips, page by page, back to the first one created before `sinceMs` − skew. */
  private async recentSince(account: Account, sinceMs: number): Promise<Scan> {
    const clips: Clip[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const batch = await this.studio.recent(account, page);
      clips.push(...batch);
      const oldest = batch[batch.length - 1];
      if (
        batch.length === 0 ||
        (oldest?.created_at && Date.parse(oldest.created_at) < sinceMs - SKEW_MS)
      ) {
        return { clips, complete: true };
      }
    }

    this.logger.warn(
      { account: account.id, pages: MAX_PAGES, clips: clips.length },
      `reconciliation read ${MAX_PAGES} pages of ${account.id}'s newest clips without reaching the submit time; older clips are not checked this time`,
    );

    return { clips, complete: false };
  }

  private adopt(generation: Generation, recent: Clip[]): boolean {
    const fingerprint = generation.fingerprint;
    if (!fingerprint || generation.clips.length > 0) return generation.clips.length > 0;
    const wanted = generation.kind === 'concat' ? 1 : 2;
    // Oldest first, so concurrent identical submits adopt their batches in submit order.
    const matches = recent
      .filter(
        (c) =>
          !this.store.owns(c.id) &&
          matchesFingerprint(c, fingerprint) &&
          createdAfter(c, generation.submittedAtMs),
      )
      .reverse()
      .slice(0, wanted);
    if (matches.length === 0) return false;
    generation.clips = matches;
    generation.fingerprint = undefined;
    this.store.save(generation);

    return true;
  }
}

function createdAfter(clip: Clip, sinceMs: number): boolean {
  if (!clip.created_at) return true;

  return Date.parse(clip.created_at) >= sinceMs - SKEW_MS;
}

function matchesFingerprint(clip: Clip, fp: SubmitFingerprint): boolean {
  const same = (a: string | null, b: string | null) => (a ?? '') === (b ?? '');
  if (fp.gpt_description_prompt)
    return same(clip.gpt_description_prompt, fp.gpt_description_prompt);

  return same(clip.lyrics, fp.prompt) && same(clip.tags, fp.tags) && same(clip.title, fp.title);
}
