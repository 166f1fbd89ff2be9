import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../observability/metrics.service';
import { AccountsService } from '../session/accounts.service';
import { Billing, StudioApi } from '../suno/studio.api';

/** Credits below which an account cannot pay for one generate (10 credits). */
export const GENERATE_COST = 10;

export interface CreditsView extends Billing {
  accounts: Array<Billing & { id: string }>;
}

/** Reads billing of every usable account and sums it into the pool's credits. */
@Injectable()
export class CreditsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Credits');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly studio: StudioApi,
    private readonly accounts: AccountsService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Reads billing periodically so the credits gauge and its alert do not depend on client traffic. */
  onApplicationBootstrap(): void {
    if (this.config.creditsRefreshMs === 0) return;
    this.timer = setInterval(() => {
      this.credits().catch((err: unknown) =>
        this.logger.warn({ err }, 'background credits refresh failed'),
      );
    }, this.config.creditsRefreshMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async credits(): Promise<CreditsView> {
    const candidates = this.accounts.all().filter((a) => a.usable || a.state === 'no_credits');
    if (candidates.length === 0) this.accounts.pick();
    const results = await Promise.allSettled(
      candidates.map(async (account) => ({
        id: account.id,
        ...(await this.studio.billing(account)),
      })),
    );
    const rows = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rows.length === 0 && failed) throw failed.reason;
    for (const row of rows) this.record(row);

    return {
      credits_left: sum(rows.map((r) => r.credits_left)),
      period: rows.find((r) => r.period)?.period ?? null,
      monthly_limit: sum(rows.map((r) => r.monthly_limit)),
      monthly_usage: sum(rows.map((r) => r.monthly_usage)),
      accounts: rows,
    };
  }

  private record(row: Billing & { id: string }): void {
    const account = this.accounts.get(row.id);
    if (!account || row.credits_left === null) return;
    account.credits = row.credits_left;
    this.metrics.m.accountCredits.set({ account: row.id }, row.credits_left);
    if (row.credits_left < GENERATE_COST) {
      this.accounts.transition(
        account,
        'no_credits',
        `billing shows ${row.credits_left} credits left`,
        10 * 60_000,
      );
    } else if (account.state === 'no_credits') {
      this.accounts.transition(
        account,
        'active',
        `billing shows ${row.credits_left} credits again`,
      );
      this.logger.log({ account: row.id }, `account ${row.id} has credits again`);
    }
  }
}

function sum(values: Array<number | null>): number | null {
  const known = values.filter((v): v is number => v !== null);

  return known.length > 0 ? known.reduce((a, b) => a + b, 0) : null;
}
