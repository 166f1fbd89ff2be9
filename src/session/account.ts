import { AccountConfig } from '../config/app-config';
import { CookieJar } from './cookie-jar';

/** Lifecycle of an account; only `active` and `starting` accounts are offered new work. */
export const ACCOUNT_STATES = [
  'starting',
  'active',
  'expired',
  'needs_relogin',
  'captcha_required',
  'revoked',
  'no_credits',
  'cooling_down',
  'auth_unreachable',
  'disabled',
] as const;

export type AccountState = (typeof ACCOUNT_STATES)[number];

export interface SessionToken {
  jwt: string;
  /** Epoch ms of the JWT's `exp`. */
  expiresAtMs: number;
  obtainedAtMs: number;
}

/** One Suno web account: its cookies, Clerk session and current JWT. Holds secrets; never serialise it. */
export class Account {
  readonly id: string;
  readonly jar: CookieJar;
  /** The cookie as configured, which identifies where a persisted rotation came from. */
  readonly configuredCookie: string;
  sessionId?: string;
  token?: SessionToken;
  state: AccountState;
  stateReason: string;
  stateChangedAt: Date;
  lastRefreshAt?: Date;
  lastRefreshError?: string;
  credits?: number;
  /** Until when a cooling-down or rate-limited account is skipped. */
  coolDownUntilMs?: number;

  constructor(config: AccountConfig) {
    this.id = config.id;
    this.jar = new CookieJar(config.cookie);
    this.configuredCookie = config.cookie;
    this.sessionId = config.sessionId;
    this.state = config.invalidReason ? 'disabled' : 'starting';
    this.stateReason = config.invalidReason ?? 'no session token yet';
    this.stateChangedAt = new Date();
  }

  /** True when requests may be sent on this account's behalf. */
  get usable(): boolean {
    if (
      this.state === 'active' ||
      this.state === 'starting' ||
      this.state === 'auth_unreachable' ||
      this.state === 'expired'
    )
      return true;
    if (
      this.state === 'cooling_down' ||
      this.state === 'no_credits' ||
      this.state === 'captcha_required'
    ) {
      return this.coolDownUntilMs !== undefined && Date.now() >= this.coolDownUntilMs;
    }

    return false;
  }
}

/** Account fields that `GET /v1/accounts` and the health probes show, without secrets. */
export interface AccountView {
  id: string;
  state: AccountState;
  state_reason: string;
  state_changed_at: string;
  usable: boolean;
  session_id_known: boolean;
  token_expires_at: string | null;
  token_age_s: number | null;
  last_refresh_at: string | null;
  last_refresh_error: string | null;
  credits_left: number | null;
}

export function viewAccount(account: Account): AccountView {
  const token = account.token;

  return {
    id: account.id,
    state: account.state,
    state_reason: account.stateReason,
    state_changed_at: account.stateChangedAt.toISOString(),
    usable: account.usable,
    session_id_known: Boolean(account.sessionId),
    token_expires_at: token ? new Date(token.expiresAtMs).toISOString() : null,
    token_age_s: token ? Math.round((Date.now() - token.obtainedAtMs) / 1000) : null,
    last_refresh_at: account.lastRefreshAt?.toISOString() ?? null,
    last_refresh_error: account.lastRefreshError ?? null,
    credits_left: account.credits ?? null,
  };
}
