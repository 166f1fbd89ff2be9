import { Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { Account } from '../session/account';
import { AccountsService } from '../session/accounts.service';
import { Clip } from '../suno/clip';
import { AlignedWord, StudioApi } from '../suno/studio.api';
import { UpstreamError } from '../suno/upstream-error';
import { GenerationStore } from './generation.store';

export interface ClipsView {
  clips: Clip[];
  missing_ids: string[];
}

/** Reads clips on the account that made them, or on any usable account when unknown here. */
@Injectable()
export class ClipsService {
  constructor(
    private readonly studio: StudioApi,
    private readonly store: GenerationStore,
    private readonly accounts: AccountsService,
  ) {}

  async one(id: string): Promise<Clip> {
    return this.studio.clip(this.accountFor(id), id);
  }

  async many(ids: string[]): Promise<ClipsView> {
    const unique = [...new Set(ids)];
    const account = this.accountFor(unique[0]);
    const found = new Map((await this.studio.feed(account, unique)).map((c) => [c.id, c]));
    // The batch feed leaves out errored clips; the single-clip call still returns them.
    for (const id of unique.filter((i) => !found.has(i))) {
      const clip = await this.studio.clip(account, id).catch((err: unknown) => {
        if (err instanceof UpstreamError && err.status === 404) return undefined;
        throw err;
      });
      if (clip) found.set(id, clip);
    }

    return {
      clips: unique.filter((i) => found.has(i)).map((i) => found.get(i)!),
      missing_ids: unique.filter((i) => !found.has(i)),
    };
  }

  async alignedLyrics(id: string): Promise<{ clip_id: string; aligned_words: AlignedWord[] }> {
    return { clip_id: id, aligned_words: await this.studio.alignedLyrics(this.accountFor(id), id) };
  }

  private accountFor(clipId: string | undefined): Account {
    const owner = clipId ? this.store.byClipId(clipId) : undefined;
    const account = owner ? this.accounts.get(owner.accountId) : undefined;
    if (account?.usable) return account;
    if (owner && account) {
      throw new AppError({
        status: 503,
        code: ErrorCode.NoUsableAccount,
        detail: `The clip belongs to account ${account.id}, which is ${account.state}.`,
        retryAfterS: 30,
      });
    }

    return this.accounts.pick();
  }
}
