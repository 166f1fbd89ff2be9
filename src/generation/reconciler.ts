import { Injectable, Logger } from '@nestjs/common';
import { MetricsService } from '../observability/metrics.service';
import { withSpan } from '../observability/tracing';
import { Attr } from '../observability/span-attributes';
import { Account } from '../session/account';
import { Clip } from '../suno/clip';
import { StudioApi } from '../suno/studio.api';
import { Generation, SubmitFingerprint } from './generation';
import { GenerationStore } from './generation.store';

/** Pages of the newest clips read per reconciliation; 20 clips a page. */
const PAGES = 3;
/** Clock skew allowed between our submit time and the upstream's `created_at`. */
const SKEW_MS = 10_000;

export type ReconcileResult = 'adopted' | 'resubmitted' | 'unknown';

/**
 * Finds the clips of a submit whose answer was lost, by reading the account's newest clips
 * and matching the request's text. Generation is not idempotent upstream, so this comes
 * before any resubmit.
 */
@Injectable()
export class Reconciler {
  private readonly logger = new Logger('Reconciler');

  constructor(
    private readonly studio: StudioApi,
    private readonly store: GenerationStore,
    private readonly metrics: MetricsService,
  ) {}

  /** Looks once for the generation's clips; adopts them when found. */
  async reconcile(account: Account, generation: Generation): Promise<boolean> {
    return withSpan('generation.reconcile', { attributes: { [Attr.account]: account.id, [Attr.generationId]: generation.id } }, async (span) => {
      const recent = await this.recentSince(account, generation.submittedAtMs);
      const adopted = this.adopt(generation, recent);
      span.setAttribute('suno.reconcile.adopted', adopted);

      return adopted;
    });
  }

  /** Called by the watcher for generations still unknown. */
  async findMissing(account: Account, generations: Generation[]): Promise<void> {
    const oldest = Math.min(...generations.map((g) => g.submittedAtMs));
    const recent = await this.recentSince(account, oldest);
    for (const generation of generations) {
      if (this.adopt(generation, recent)) this.record('adopted', generation, 'clips appeared after the submit timed out');
    }
  }

  record(result: ReconcileResult, generation: Generation, reason: string): void {
    this.metrics.m.reconciliations.inc({ result });
    const line = { generation_id: generation.id, account: generation.accountId, result, reason };
    if (result === 'adopted') this.logger.log(line, `reconciliation ${result}: ${reason}`);
    else this.logger.warn(line, `reconciliation ${result}: ${reason}`);
  }

  private async recentSince(account: Account, sinceMs: number): Promise<Clip[]> {
    const clips: Clip[] = [];
    for (let page = 0; page < PAGES; page++) {
      const batch = await this.studio.recent(account, page);
      clips.push(...batch);
      const oldest = batch[batch.length - 1];
      if (batch.length === 0 || (oldest?.created_at && Date.parse(oldest.created_at) < sinceMs - SKEW_MS)) break;
    }

    return clips;
  }

  private adopt(generation: Generation, recent: Clip[]): boolean {
    const fingerprint = generation.fingerprint;
    if (!fingerprint || generation.clips.length > 0) return generation.clips.length > 0;
    const wanted = generation.kind === 'concat' ? 1 : 2;
    // Oldest first, so concurrent identical submits adopt their batches in submit order.
    const matches = recent
      .filter((c) => !this.store.owns(c.id) && matchesFingerprint(c, fingerprint) && createdAfter(c, generation.submittedAtMs))
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
  if (fp.gpt_description_prompt) return same(clip.gpt_description_prompt, fp.gpt_description_prompt);

  return same(clip.lyrics, fp.prompt) && same(clip.tags, fp.tags) && same(clip.title, fp.title);
}
