import { randomBytes } from 'node:crypto';
import { DEFAULT_ACCOUNT, deriveId, extractClientValue, makeClientValue } from './accounts';
import type { ClipRecord } from './clips';
import type { EmulatorConfig, ResolvedOptions } from './config';
import { FaultRegistry } from './faults';
import { ROUTE_NAMES, UNKNOWN_ROUTE } from './http';
import type { SessionClaims } from './jwt';

export type Plan = 'free' | 'pro';

/** Credits each generate request costs, as the upstream has charged (5 per clip). */
export const GENERATE_COST = 10;

export interface Account {
  readonly id: string;
  readonly userId: string;
  sessionId: string;
  plan: Plan;
  credits: number;
  /** Credits charged this period net of refunds, as the billing route reports them. */
  monthlyUsage: number;
  signedOut: boolean;
  revoked: boolean;
  degraded: boolean;
  /** Accepted `__client` values, with the configured one first and the newest rotation last. */
  clientValues: string[];
  /** Successful Clerk calls, which drive `__client` rotation. */
  clerkCalls: number;
  /** Generate requests accepted, which drive `captcha_after_generations`. */
  generations: number;
  /** Every clip of the account, oldest first. */
  library: ClipRecord[];
  /** Generate batches that were unfinished when runningCount last pruned the list. */
  running: { batchId: string; settledAt: number }[];
  /** Refunds of moderated batches, applied once their clips turn `error`. */
  pendingRefunds: { at: number; credits: number }[];
}

/** Account fields that the start options and `POST /__emulator/accounts` can set. */
export interface AccountSettings {
  id: string;
  clientValue?: string;
  credits?: number;
  sessionId?: string;
  plan?: Plan;
  signedOut?: boolean;
  revoked?: boolean;
  degraded?: boolean;
}

export interface LyricsJob {
  readonly id: string;
  readonly accountId: string;
  readonly readyAt: number;
  readonly title: string;
  readonly text: string;
  /** Set when moderation rejects the prompt. */
  readonly error: string | null;
}

export interface EmulatorStats {
  /** Requests per route name, plus `unknown`. Control routes are not counted. */
  requests: Record<string, number>;
  /** Generate, concat and stems requests that created clips. */
  generations: number;
  clips: number;
  /** JWTs issued by the Clerk tokens route. JWTs inside `/v1/client` responses are not counted. */
  tokens_minted: number;
  faults_hit: number;
  /** Clerk calls made with a `__client` value older than the account's newest one. */
  stale_client_uses: number;
}

// Rotated `__client` values kept valid per account besides the configured one. Older
// rotations are forgotten, so a long benchmark cannot grow the index without bound.
const MAX_ROTATED_VALUES = 1000;

export class EmulatorState {
  config: EmulatorConfig;
  /** Base of audio, image and `iss` URLs, set once the server listens. */
  publicUrl = '';
  /** HS256 key of session JWTs, kept across resets so issued tokens stay verifiable. */
  readonly jwtSecret = randomBytes(32);
  readonly clipDurationS: number;
  readonly accounts = new Map<string, Account>();
  readonly clips = new Map<string, ClipRecord>();
  readonly lyrics = new Map<string, LyricsJob>();
  readonly faults = new FaultRegistry();
  /** Verified JWT claims by token string, so the hot path skips the HMAC on repeats. */
  readonly verifiedTokens = new Map<string, SessionClaims>();
  stats: EmulatorStats = emptyStats();
  private readonly clientIndex = new Map<string, Account>();

  constructor(private readonly start: ResolvedOptions) {
    this.config = start.config;
    this.clipDurationS = start.clipDurationS;
    this.reset();
  }

  /** Restores the start accounts and config, and drops clips, lyrics, faults and stats. */
  reset(): void {
    this.config = { ...this.start.config, blocked_words: [...this.start.config.blocked_words] };
    this.accounts.clear();
    this.clientIndex.clear();
    this.clips.clear();
    this.lyrics.clear();
    this.verifiedTokens.clear();
    this.faults.clear();
    this.stats = emptyStats();
    const inputs = this.start.accounts ?? [
      {
        id: DEFAULT_ACCOUNT.id,
        cookie: DEFAULT_ACCOUNT.clientToken,
        sessionId: DEFAULT_ACCOUNT.sessionId,
      },
    ];
    for (const input of inputs) {
      const clientValue = input.cookie === undefined ? undefined : extractClientValue(input.cookie);
      this.upsertAccount({ ...input, clientValue });
    }
  }

  /** Creates the account or updates the given fields of an existing one. */
  upsertAccount(settings: AccountSettings): Account {
    const existing = this.accounts.get(settings.id);
    const account = existing ?? this.createAccount(settings);
    if (settings.plan !== undefined) account.plan = settings.plan;
    if (settings.credits !== undefined) account.credits = settings.credits;
    if (settings.sessionId !== undefined) account.sessionId = settings.sessionId;
    if (settings.signedOut !== undefined) account.signedOut = settings.signedOut;
    if (settings.revoked !== undefined) account.revoked = settings.revoked;
    if (settings.degraded !== undefined) account.degraded = settings.degraded;
    if (existing && settings.clientValue !== undefined) {
      // A new cookie replaces every earlier value, as a fresh sign-in would.
      for (const value of account.clientValues) this.clientIndex.delete(value);
      account.clientValues = [];
      this.addClientValue(account, settings.clientValue);
    }

    return account;
  }

  private createAccount(settings: AccountSettings): Account {
    const plan = settings.plan ?? 'pro';
    const account: Account = {
      id: settings.id,
      userId: deriveId('user', settings.id),
      sessionId: settings.sessionId ?? deriveId('sess', settings.id),
      plan,
      credits: settings.credits ?? (plan === 'free' ? 50 : 500),
      monthlyUsage: 0,
      signedOut: false,
      revoked: false,
      degraded: false,
      clientValues: [],
      clerkCalls: 0,
      generations: 0,
      library: [],
      running: [],
      pendingRefunds: [],
    };
    this.accounts.set(account.id, account);
    this.addClientValue(account, settings.clientValue ?? makeClientValue(settings.id));

    return account;
  }

  /** Adds a `__client` value as the account's newest. Earlier values stay valid. */
  addClientValue(account: Account, value: string): void {
    const owner = this.clientIndex.get(value);
    if (owner && owner !== account) {
      owner.clientValues = owner.clientValues.filter((known) => known !== value);
    }
    account.clientValues.push(value);
    this.clientIndex.set(value, account);
    if (account.clientValues.length > MAX_ROTATED_VALUES + 1) {
      const [forgotten] = account.clientValues.splice(1, 1);
      this.clientIndex.delete(forgotten);
    }
  }

  findAccountByClient(value: string): Account | undefined {
    return this.clientIndex.get(value);
  }

  /** Returns the clip if it exists and belongs to the account. */
  findClip(account: Account, clipId: string): ClipRecord | undefined {
    const clip = this.clips.get(clipId);

    return clip !== undefined && clip.accountId === account.id ? clip : undefined;
  }

  addClips(account: Account, clips: ClipRecord[]): void {
    for (const clip of clips) {
      this.clips.set(clip.id, clip);
      account.library.push(clip);
    }
    this.stats.clips += clips.length;
    this.stats.generations += 1;
  }

  /** Applies the refunds whose clips have turned `error` by `now`. */
  settleRefunds(account: Account, now: number): void {
    if (account.pendingRefunds.length === 0) return;

    const due = account.pendingRefunds.filter((refund) => refund.at <= now);
    account.pendingRefunds = account.pendingRefunds.filter((refund) => refund.at > now);
    for (const refund of due) {
      account.credits += refund.credits;
      account.monthlyUsage -= refund.credits;
    }
  }

  /** Counts the account's generate batches with a clip not yet `complete` or `error`. */
  runningCount(account: Account, now: number): number {
    account.running = account.running.filter((batch) => batch.settledAt > now);

    return account.running.length;
  }

  /** The JSON of `GET /__emulator/stats`. */
  statsSnapshot(now: number): Record<string, unknown> {
    const credits: Record<string, number> = {};
    const running: Record<string, number> = {};
    for (const account of this.accounts.values()) {
      this.settleRefunds(account, now);
      credits[account.id] = account.credits;
      running[account.id] = this.runningCount(account, now);
    }

    return { ...this.stats, requests: { ...this.stats.requests }, credits, running };
  }
}

function emptyStats(): EmulatorStats {
  const requests: Record<string, number> = {};
  for (const name of ROUTE_NAMES) requests[name] = 0;
  requests[UNKNOWN_ROUTE] = 0;

  return {
    requests,
    generations: 0,
    clips: 0,
    tokens_minted: 0,
    faults_hit: 0,
    stale_client_uses: 0,
  };
}
