import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { requestContext } from '../common/request-context';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../observability/metrics.service';
import { ACCOUNT_STATES, Account, AccountState, viewAccount, AccountView } from './account';

/** Errors for a pool whose accounts all sit in one of these states, so clients see the cause. */
const STATE_ERRORS: Partial<Record<AccountState, { status: number; code: ErrorCode }>> = {
  needs_relogin: { status: 503, code: ErrorCode.AccountSessionMissing },
  revoked: { status: 503, code: ErrorCode.AccountRevoked },
  expired: { status: 503, code: ErrorCode.AccountSessionInvalid },
  captcha_required: { status: 503, code: ErrorCode.CaptchaRequired },
  no_credits: { status: 402, code: ErrorCode.InsufficientCredits },
};

/**
 * The pool of configured accounts and their state machine. Every state change is logged
 * once, with its reason, and mirrored in `suno_account_state`.
 */
@Injectable()
export class AccountsService {
  private readonly logger = new Logger('Accounts');
  private readonly accounts: Account[];
  /** Running generations per account, for least-loaded picking; maintained by the generation service. */
  private readonly load = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.accounts = config.accounts.map((c) => new Account(c));
    for (const account of this.accounts) this.publishState(account);
  }

  all(): readonly Account[] {
    return this.accounts;
  }

  get(id: string): Account | undefined {
    return this.accounts.find((a) => a.id === id);
  }

  views(): AccountView[] {
    return this.accounts.map(viewAccount);
  }

  transition(account: Account, state: AccountState, reason: string, coolDownMs?: number): void {
    account.coolDownUntilMs = coolDownMs !== undefined ? Date.now() + coolDownMs : undefined;
    if (account.state === state && account.stateReason === reason) return;
    const previous = account.state;
    account.state = state;
    account.stateReason = reason;
    account.stateChangedAt = new Date();
    this.publishState(account);
    const line = { account: account.id, from: previous, to: state, reason };
    if (state === 'active') this.logger.log(line, `account ${account.id} is ${state}`);
    else this.logger.warn(line, `account ${account.id} is ${state}: ${reason}`);
  }

  /**
   * Picks the usable account with the fewest running generations, and records it in the
   * request's log context. `exclude` skips accounts that already failed this request. With
   * `captchaTokenGiven`, accounts cooling down after the captcha gate are eligible too, because
   * the request carries what they lack.
   */
  pick(
    exclude: ReadonlySet<string> = new Set(),
    options: { captchaTokenGiven?: boolean } = {},
  ): Account {
    let best: Account | undefined;
    for (const account of this.accounts) {
      const eligible =
        account.usable ||
        (options.captchaTokenGiven === true && account.state === 'captcha_required');
      if (!eligible || exclude.has(account.id)) continue;
      if (!best || this.loadOf(account) < this.loadOf(best)) best = account;
    }
    if (!best) throw this.noUsableAccount();
    requestContext.setAccount(best.id);

    return best;
  }

  adjustLoad(accountId: string, delta: number): void {
    this.load.set(accountId, Math.max(0, (this.load.get(accountId) ?? 0) + delta));
  }

  /** Builds the pool-wide error, with the specific code when every account is out for the same reason. */
  private noUsableAccount(): AppError {
    const reasons = this.accounts.map((a) => `${a.id}: ${a.state} (${a.stateReason})`).join('; ');
    const states = new Set(this.accounts.map((a) => a.state));
    const shared = states.size === 1 ? STATE_ERRORS[[...states][0]] : undefined;

    return new AppError({
      status: shared?.status ?? 503,
      code: shared?.code ?? ErrorCode.NoUsableAccount,
      detail: `No account can serve requests right now. ${reasons}`,
      retryAfterS: 30,
    });
  }

  private loadOf(account: Account): number {
    return this.load.get(account.id) ?? 0;
  }

  private publishState(account: Account): void {
    for (const state of ACCOUNT_STATES) {
      this.metrics.m.accountState.set(
        { account: account.id, state },
        state === account.state ? 1 : 0,
      );
    }
  }
}
