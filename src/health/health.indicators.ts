import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { scrubSecrets } from '../observability/redaction';
import { Account } from '../session/account';
import { AccountsService } from '../session/accounts.service';
import { SessionService } from '../session/session.service';
import { EventLoopStallMonitor } from './event-loop-stall';
import { REDIS_CLIENT } from './redis.provider';
import { ShutdownState } from './shutdown-state';

const MB = 1024 * 1024;

/** Account fields in probe bodies: state and token timing, never a cookie or JWT. */
export interface AccountHealth {
  id: string;
  state: string;
  reason: string;
  usable: boolean;
  has_token: boolean;
  token_expires_at: string | null;
  last_refresh_at: string | null;
  last_refresh_error: string | null;
}

/**
 * The checks behind the three probes. Liveness looks only at this process, while readiness
 * and startup look at what this replica needs to serve. Each check returns a terminus result
 * instead of throwing, so one broken dependency cannot hide the others in the body.
 */
@Injectable()
export class HealthIndicators implements OnModuleDestroy {
  private readonly loopStalls = new EventLoopStallMonitor();
  private firstLoginSettled = false;

  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly accounts: AccountsService,
    private readonly shutdown: ShutdownState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    session: SessionService,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: Redis | null,
  ) {
    void session.firstLogin.then(() => (this.firstLoginSettled = true));
  }

  onModuleDestroy(): void {
    this.loopStalls.stop();
  }

  /** Checks the event loop's longest stall since the previous call and the V8 heap in use. */
  process(): HealthIndicatorResult {
    const check = this.indicator.check('process');
    const delayMs = this.loopStalls.takeMaxStallMs();
    const heapBytes = process.memoryUsage().heapUsed;
    const { maxHeapBytes, maxEventLoopDelayMs } = this.config.health;
    const data = {
      event_loop_delay_max_ms: delayMs,
      event_loop_delay_limit_ms: maxEventLoopDelayMs,
      heap_used_mb: Math.round(heapBytes / MB),
      heap_limit_mb: Math.round(maxHeapBytes / MB),
    };

    if (delayMs >= maxEventLoopDelayMs)
      return check.down({ ...data, reason: `the event loop stalled for ${delayMs} ms` });
    if (heapBytes >= maxHeapBytes)
      return check.down({ ...data, reason: `the heap uses ${data.heap_used_mb} MB` });

    return check.up(data);
  }

  /** Reports down from the moment shutdown begins, so endpoints drop this replica first. */
  notShuttingDown(): HealthIndicatorResult {
    const check = this.indicator.check('shutdown');
    const since = this.shutdown.since;

    return since
      ? check.down({ reason: 'this replica is shutting down', since: since.toISOString() })
      : check.up();
  }

  /** Reports the validated configuration. The process does not start without one, so this is never down. */
  configuration(): HealthIndicatorResult {
    return this.indicator.check('config').up({
      accounts_configured: this.config.accounts.length,
      redis_configured: Boolean(this.config.redisUrl),
    });
  }

  /** Reports up while at least one account may be used and has a session token. */
  usableAccount(): HealthIndicatorResult {
    const check = this.indicator.check('accounts');
    const accounts = this.accounts.all().map(accountHealth);
    if (accounts.some((a) => a.usable && a.has_token)) return check.up({ accounts });

    const reasons =
      accounts.map((a) => `${a.id}: ${a.state} (${a.reason})`).join('; ') ||
      'no account is configured';

    return check.down({ reason: `no account has a usable session token; ${reasons}`, accounts });
  }

  /** Pings Redis when REDIS_URL is set. The caller bounds the wait. */
  async redisReachable(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('redis');
    if (!this.redis) return check.up({ configured: false });

    try {
      await this.redis.ping();

      return check.up({ configured: true });
    } catch (err) {
      return check.down({
        configured: true,
        reason: `ping failed: ${scrubSecrets((err as Error).message)}`,
      });
    }
  }

  /** Reports up once every account got its first session token or recorded why it could not. */
  firstLogin(): HealthIndicatorResult {
    const check = this.indicator.check('session');
    const accounts = this.accounts.all().map(accountHealth);

    return this.firstLoginSettled
      ? check.up({ accounts })
      : check.down({ reason: 'the first login is still running', accounts });
  }
}

export function accountHealth(account: Account): AccountHealth {
  return {
    id: account.id,
    state: account.state,
    reason: scrubSecrets(account.stateReason),
    usable: account.usable,
    has_token: account.token !== undefined,
    token_expires_at: account.token ? new Date(account.token.expiresAtMs).toISOString() : null,
    last_refresh_at: account.lastRefreshAt?.toISOString() ?? null,
    last_refresh_error: account.lastRefreshError ? scrubSecrets(account.lastRefreshError) : null,
  };
}
