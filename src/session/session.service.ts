import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../observability/metrics.service';
import { withSpan } from '../observability/tracing';
import { Attr } from '../observability/span-attributes';
import { clerkErrorCode, mapUpstreamError } from '../suno/error-mapping';
import { UpstreamError } from '../suno/upstream-error';
import { Account, SessionToken } from './account';
import { AccountsService } from './accounts.service';
import { ClerkApi } from './clerk.api';
import { decodeJwt } from './jwt';
import { SessionStore } from './session-store';

/** Lifetime assumed when a JWT carries no readable `exp` (Clerk's default is 60 s). */
const DEFAULT_TOKEN_LIFETIME_MS = 60_000;

/**
 * Keeps each account's session JWT fresh. A token is reused until `refreshAheadMs` before
 * its `exp`; concurrent callers share one refresh; a background timer refreshes ahead of
 * expiry; a failed refresh is never cached, so the next call tries again.
 */
@Injectable()
export class SessionService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('Session');
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  /** Cookie header last persisted per account, to save only real rotations. */
  private readonly saved = new Map<string, string>();
  private readonly pendingSaves = new Set<Promise<void>>();
  /** Restores of persisted cookies; a login waits for its account's restore so it uses the newest cookie. */
  private readonly restores = new Map<string, Promise<void>>();
  private stopped = false;
  /** Resolves once every account got its first token or failed with a reason. */
  readonly firstLogin: Promise<void>;
  private resolveFirstLogin!: () => void;

  constructor(
    private readonly clerk: ClerkApi,
    private readonly accounts: AccountsService,
    private readonly metrics: MetricsService,
    private readonly sessions: SessionStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.firstLogin = new Promise((resolve) => (this.resolveFirstLogin = resolve));
  }

  onApplicationBootstrap(): void {
    const accounts = this.accounts.all().filter((a) => a.state !== 'disabled');
    for (const account of accounts) this.restores.set(account.id, this.restore(account));
    const logins = accounts.map((a) => this.getToken(a).catch(() => undefined));
    void Promise.all(logins).then(() => this.resolveFirstLogin());
  }

  /** Loads the cookie rotation persisted before a restart, if the configured cookie is unchanged. */
  private async restore(account: Account): Promise<void> {
    try {
      const stored = await this.sessions.load(account.id, account.configuredCookie);
      if (!stored) return;
      account.jar.replace(stored);
      this.saved.set(account.id, stored);
      this.logger.log(
        { account: account.id },
        `restored the rotated session cookie of ${account.id}`,
      );
    } catch (err) {
      this.logger.warn(
        { account: account.id, err },
        `could not load the stored session of ${account.id}; using the configured cookie`,
      );
    }
  }

  private persist(account: Account): void {
    const header = account.jar.header();
    if (this.saved.get(account.id) === header || header === account.configuredCookie) return;
    this.saved.set(account.id, header);
    const save = this.sessions
      .save(account.id, account.configuredCookie, header)
      .catch((err: unknown) => {
        this.saved.delete(account.id);
        this.logger.warn(
          { account: account.id, err },
          `could not persist the rotated session cookie of ${account.id}`,
        );
      })
      .finally(() => this.pendingSaves.delete(save));
    this.pendingSaves.add(save);
  }

  /** Lets cookie saves finish before Redis closes, so a rotation seen just before shutdown survives. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.pendingSaves]);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * Returns a JWT valid for at least `refreshAheadMs`. With `rejected`, the caller reports that
   * the upstream refused that token: a newer one is returned if another caller already
   * refreshed, otherwise one refresh is forced.
   */
  async getToken(account: Account, rejected?: string): Promise<string> {
    const token = account.token;
    const fresh = token && Date.now() < token.expiresAtMs - this.config.session.refreshAheadMs;
    if (token && fresh && token.jwt !== rejected) return token.jwt;
    if (token && rejected && token.jwt !== rejected && Date.now() < token.expiresAtMs)
      return token.jwt;
    if (account.state === 'revoked' || account.state === 'disabled') throw this.unusable(account);

    let pending = this.inflight.get(account.id);
    if (!pending) {
      pending = this.refresh(account).finally(() => this.inflight.delete(account.id));
      this.inflight.set(account.id, pending);
    }

    return pending;
  }

  private refresh(account: Account): Promise<string> {
    return withSpan(
      'session.refresh_token',
      { attributes: { [Attr.account]: account.id } },
      async () => {
        try {
          await this.restores.get(account.id);
          const jwt = await this.mint(account);
          this.store(account, jwt);

          return jwt;
        } catch (err) {
          throw this.onRefreshFailure(account, err);
        }
      },
    );
  }

  private async mint(account: Account): Promise<string> {
    if (!account.sessionId) account.sessionId = await this.discoverSession(account);
    try {
      return await this.clerk.mintToken(account, account.sessionId);
    } catch (err) {
      // A stale session id gets 401, so look the session up again once before giving up.
      if (
        !(err instanceof UpstreamError) ||
        err.status !== 401 ||
        clerkErrorCode(err.body) === 'session_revoked'
      )
        throw err;
      account.sessionId = await this.discoverSession(account);

      return this.clerk.mintToken(account, account.sessionId);
    }
  }

  private async discoverSession(account: Account): Promise<string> {
    const { sessionId } = await this.clerk.getClient(account);
    if (!sessionId) {
      this.accounts.transition(
        account,
        'needs_relogin',
        'Clerk reports no active session for the cookie (signed out, expired or replaced by another login)',
      );
      throw new AppError({
        status: 503,
        code: ErrorCode.AccountSessionMissing,
        detail: `Account ${account.id} has no active Suno session; sign in on suno.com again and update its cookie.`,
        retryAfterS: 60,
      });
    }

    return sessionId;
  }

  private store(account: Account, jwt: string): void {
    const now = Date.now();
    const exp = decodeJwt(jwt)?.exp;
    const token: SessionToken = {
      jwt,
      obtainedAtMs: now,
      expiresAtMs: exp ? exp * 1000 : now + DEFAULT_TOKEN_LIFETIME_MS,
    };
    account.token = token;
    account.lastRefreshAt = new Date(now);
    account.lastRefreshError = undefined;
    this.failures.delete(account.id);
    this.metrics.m.tokenExpiry.set({ account: account.id }, token.expiresAtMs / 1000);
    this.metrics.m.tokenRefreshes.inc({ account: account.id, result: 'success' });
    this.persist(account);
    if (
      account.state !== 'no_credits' &&
      account.state !== 'captcha_required' &&
      account.state !== 'cooling_down'
    ) {
      this.accounts.transition(account, 'active', 'session token refreshed');
    }
    this.schedule(
      account,
      Math.max(1_000, token.expiresAtMs - now - this.config.session.refreshAheadMs),
    );
  }

  private onRefreshFailure(account: Account, err: unknown): unknown {
    this.metrics.m.tokenRefreshes.inc({ account: account.id, result: 'failure' });
    account.lastRefreshError = err instanceof Error ? err.message : String(err);
    const failures = (this.failures.get(account.id) ?? 0) + 1;
    this.failures.set(account.id, failures);
    const base = this.config.session.retryBaseMs * 2 ** Math.min(failures - 1, 16);
    const delay = Math.min(this.config.session.retryMaxMs, base) * (0.5 + Math.random() / 2);
    if (err instanceof AppError) {
      this.schedule(account, delay);

      return err;
    }
    if (!(err instanceof UpstreamError)) return err;
    this.classifyAuthFailure(account, err);
    if (account.state !== 'revoked') this.schedule(account, delay);

    return err.kind === 'http' ? this.authError(account, err) : mapUpstreamError(err);
  }

  private classifyAuthFailure(account: Account, err: UpstreamError): void {
    const code = clerkErrorCode(err.body);
    if (code === 'session_revoked') {
      this.accounts.transition(
        account,
        'revoked',
        'Clerk revoked the session (signed out elsewhere, or a login on another account)',
      );
    } else if (code === 'requires_captcha') {
      this.accounts.transition(
        account,
        'captcha_required',
        'Clerk demands a captcha before minting tokens',
        this.config.session.captchaCoolDownMs,
      );
    } else if (
      err.kind === 'http' &&
      (err.status === 401 || err.status === 403) &&
      !err.isHtmlPage
    ) {
      this.accounts.transition(
        account,
        'expired',
        `Clerk rejected the session (${code ?? `status ${err.status}`})`,
      );
    } else if (code === 'api_version_invalid') {
      this.accounts.transition(
        account,
        'auth_unreachable',
        'Clerk rejected the request format (api_version_invalid); check the pinned Clerk versions and SUNO_AUTH_URL',
      );
    } else if (err.kind !== 'circuit_open') {
      const answer = `${err.kind}${err.status ? ` ${err.status}` : ''}${err.isHtmlPage ? ' with an HTML page' : ''}`;
      this.accounts.transition(
        account,
        'auth_unreachable',
        `Clerk call ${err.operation}${err.address ? ` at ${err.address}` : ''} failed: ${answer}`,
      );
    }
  }

  private authError(account: Account, err: UpstreamError): AppError {
    const mapped = mapUpstreamError(err);
    if (account.state === 'revoked') {
      return new AppError({
        status: 503,
        code: ErrorCode.AccountRevoked,
        detail: `Account ${account.id}'s session was revoked; sign in again and update its cookie.`,
        cause: err,
      });
    }
    if (account.state === 'captcha_required') {
      return new AppError({
        status: 503,
        code: ErrorCode.CaptchaRequired,
        detail: `Account ${account.id} must solve a captcha on suno.com before tokens can be minted.`,
        retryAfterS: 300,
        cause: err,
      });
    }

    return mapped;
  }

  private unusable(account: Account): AppError {
    const code =
      account.state === 'revoked' ? ErrorCode.AccountRevoked : ErrorCode.AccountSessionInvalid;

    return new AppError({
      status: 503,
      code,
      detail: `Account ${account.id} is ${account.state}: ${account.stateReason}`,
    });
  }

  private schedule(account: Account, delayMs: number): void {
    if (this.stopped || !this.config.session.backgroundRefresh) return;
    clearTimeout(this.timers.get(account.id));
    const timer = setTimeout(() => {
      this.timers.delete(account.id);
      this.getToken(account, account.token?.jwt).catch((err: unknown) => {
        this.logger.warn(
          { account: account.id, err },
          `background token refresh failed for ${account.id}`,
        );
      });
    }, delayMs);
    timer.unref();
    this.timers.set(account.id, timer);
  }
}
