import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { WaitRelease } from '../health/wait-release';
import { withSpan } from '../observability/tracing';
import { AccountsService } from '../session/accounts.service';
import { Account } from '../session/account';
import { StudioApi } from '../suno/studio.api';
import { WaitBudgetQueryDto } from '../common/dto';

export interface LyricsView {
  id: string;
  status: string;
  title: string | null;
  text: string | null;
  error_message: string | null;
}

const TERMINAL = new Set(['complete', 'error']);

/** Lyrics jobs: submit, then poll until complete. Lyrics cost no credits. */
@Injectable()
export class LyricsService {
  /** Account that made each lyrics job, bounded so the map cannot grow without limit. */
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly studio: StudioApi,
    private readonly accounts: AccountsService,
    private readonly waits: WaitRelease,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(prompt: string, wait: WaitBudgetQueryDto): Promise<LyricsView> {
    const account = this.accounts.pick();
    const id = await this.studio.submitLyrics(account, prompt);
    this.owners.set(id, account.id);
    if (this.owners.size > 10_000) this.owners.delete(this.owners.keys().next().value as string);

    return wait.wait
      ? this.waitFor(account, id, wait)
      : { id, status: 'running', title: null, text: null, error_message: null };
  }

  async get(id: string, wait: WaitBudgetQueryDto): Promise<LyricsView> {
    const owner = this.owners.get(id);
    const account = (owner && this.accounts.get(owner)) || this.accounts.pick();

    return wait.wait ? this.waitFor(account, id, wait) : this.read(account, id);
  }

  private async read(account: Account, id: string): Promise<LyricsView> {
    const result = await this.studio.lyrics(account, id);

    return {
      id,
      status: result.status,
      title: result.title,
      text: result.text,
      error_message: result.error_message,
    };
  }

  private waitFor(account: Account, id: string, wait: WaitBudgetQueryDto): Promise<LyricsView> {
    const { waitBudgetMs, maxWaitBudgetMs, pollIntervalMs } = this.config.generation;
    const deadline =
      Date.now() +
      Math.min(
        wait.timeout_s !== undefined ? wait.timeout_s * 1000 : waitBudgetMs,
        maxWaitBudgetMs,
      );

    return withSpan('lyrics.wait', {}, async () => {
      for (;;) {
        const view = await this.read(account, id);
        if (
          TERMINAL.has(view.status) ||
          Date.now() + pollIntervalMs > deadline ||
          this.waits.isReleased
        )
          return view;
        await this.waits.sleep(pollIntervalMs);
      }
    });
  }
}
