import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { toAppError } from '../common/problem.filter';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../observability/metrics.service';
import { ResilienceService } from '../resilience/resilience.service';
import { Account } from '../session/account';
import { AccountsService } from '../session/accounts.service';
import { Clip } from '../suno/clip';
import { UpstreamError } from '../suno/upstream-error';
import { ClipWatcher } from './clip-watcher';
import { Generation, GenerationKind, SubmitFingerprint } from './generation';
import { GenerationStore } from './generation.store';
import { Reconciler } from './reconciler';

export interface SubmitRequest {
  kind: GenerationKind;
  fingerprint: SubmitFingerprint;
  /** Whether the caller sent a solved captcha token, which makes captcha-gated accounts eligible. */
  hasCaptchaToken?: boolean;
  send(account: Account): Promise<Clip[]>;
}

/**
 * Account-level failures after which the next pool account is tried. A model rejected on one
 * account's plan may be allowed on another's, so that rotates too.
 */
const ROTATE_ON: ReadonlySet<string> = new Set([
  ErrorCode.InsufficientCredits,
  ErrorCode.CaptchaRequired,
  ErrorCode.AccountSessionInvalid,
  ErrorCode.AccountSessionMissing,
  ErrorCode.AccountRevoked,
  ErrorCode.ModelNotAllowed,
]);

/** Account states that a successful submit ends, because the account served again after its cool-down. */
const READMIT_FROM: ReadonlySet<string> = new Set([
  'captcha_required',
  'no_credits',
  'cooling_down',
]);

/**
 * Submits work that spends credits and never resends it blindly: after a response is lost,
 * the account's newest clips are read first, and only a dropped connection with no new clips
 * leads to one resubmit. A slot of the account's bulkhead is held until the generation ends.
 */
@Injectable()
export class Submitter {
  private readonly logger = new Logger('Submitter');

  constructor(
    private readonly accounts: AccountsService,
    private readonly resilience: ResilienceService,
    private readonly store: GenerationStore,
    private readonly watcher: ClipWatcher,
    private readonly reconciler: Reconciler,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async submit(request: SubmitRequest, preferred?: Account): Promise<Generation> {
    const tried = new Set<string>();
    let lastError: AppError | undefined;
    for (;;) {
      const account =
        preferred ?? this.pickUntried(tried, lastError, request.hasCaptchaToken === true);
      try {
        const generation = await this.submitOn(account, request);
        this.readmit(account, request.kind);

        return generation;
      } catch (err) {
        const mapped = toAppError(err);
        if (preferred || !ROTATE_ON.has(mapped.code)) throw mapped;
        this.markAccount(account, mapped);
        tried.add(account.id);
        lastError = mapped;
      }
    }
  }

  /** Once every account failed this request, the client gets the last account's own error. */
  private pickUntried(
    tried: ReadonlySet<string>,
    lastError: AppError | undefined,
    captchaTokenGiven: boolean,
  ): Account {
    try {
      return this.accounts.pick(tried, { captchaTokenGiven });
    } catch (err) {
      throw lastError ?? err;
    }
  }

  private async submitOn(account: Account, request: SubmitRequest): Promise<Generation> {
    const release = await this.resilience.bulkheads.acquire(account.id);
    this.accounts.adjustLoad(account.id, 1);
    const done = once(() => {
      release();
      this.accounts.adjustLoad(account.id, -1);
    });
    const generation: Generation = {
      id: randomUUID(),
      kind: request.kind,
      accountId: account.id,
      clips: [],
      createdAt: new Date(),
      submittedAtMs: Date.now(),
      timedOut: false,
      reconciling: false,
    };
    try {
      generation.clips = await this.sendOnce(account, request, generation);
    } catch (err) {
      if (generation.clips.length === 0 && generation.fingerprint) {
        // The response was lost and reconciliation goes on in the background, so keep the slot.
        this.store.save(generation);
        this.watcher.watch(generation, done);
      } else {
        done();
      }
      throw err;
    }
    this.store.save(generation);
    this.metrics.m.generationsSubmitted.inc({ kind: request.kind });
    this.watcher.watch(generation, done);

    return generation;
  }

  private async sendOnce(
    account: Account,
    request: SubmitRequest,
    generation: Generation,
  ): Promise<Clip[]> {
    try {
      return await request.send(account);
    } catch (err) {
      if (!isAmbiguous(err)) throw err;
      generation.fingerprint = request.fingerprint;
      const found = await this.reconciler
        .reconcile(account, generation)
        .catch((readErr: unknown) => {
          this.logger.warn(
            { account: account.id, generation_id: generation.id, err: readErr },
            `reading the feed after a lost submit (${err.kind}) failed; its outcome stays unknown`,
          );

          return undefined;
        });
      if (found) {
        this.reconciler.record('adopted', generation, `found the clips after ${err.kind}`);

        return generation.clips;
      }
      // Without a feed read the gateway cannot tell whether the songs exist, so it must not
      // resubmit: it keeps looking in the background, as after a timeout.
      if (err.kind === 'timeout' || found === undefined) {
        const lost =
          err.kind === 'timeout'
            ? 'did not answer the submit in time'
            : `lost the submit's answer (${err.kind}) and the feed could not be read`;
        this.reconciler.record('unknown', generation, `the upstream ${lost}; still looking`);
        throw new AppError({
          status: 504,
          code: ErrorCode.UpstreamTimeout,
          detail: `The upstream ${lost}. It may still create the songs: query GET /v1/generations/${generation.id} later.`,
          extra: { generation_id: generation.id },
          cause: err,
        });
      }
      generation.fingerprint = undefined;
      if (err.kind !== 'reset') throw err;
      this.reconciler.record(
        'resubmitted',
        generation,
        'connection dropped and the upstream shows no new clips',
      );

      return request.send(account);
    }
  }

  private markAccount(account: Account, error: AppError): void {
    if (error.code === ErrorCode.InsufficientCredits)
      this.accounts.transition(
        account,
        'no_credits',
        'the upstream reported insufficient credits',
        10 * 60_000,
      );
    else if (error.code === ErrorCode.CaptchaRequired)
      this.accounts.transition(
        account,
        'captcha_required',
        'the upstream demands a captcha for generation',
        this.config.session.captchaCoolDownMs,
      );
    this.logger.warn(
      { account: account.id, code: error.code },
      `trying another account after ${error.code} on ${account.id}`,
    );
  }

  /** A submit that went through proves a cooled-down account works again, so it rejoins the pool. */
  private readmit(account: Account, kind: GenerationKind): void {
    if (READMIT_FROM.has(account.state))
      this.accounts.transition(
        account,
        'active',
        `a ${kind} submit succeeded after ${account.state}`,
      );
  }
}

function isAmbiguous(err: unknown): err is UpstreamError {
  if (!(err instanceof UpstreamError) || !err.mayHaveReachedUpstream) return false;
  if (err.kind === 'http') return (err.status ?? 0) >= 500;

  return err.kind === 'timeout' || err.kind === 'reset' || err.kind === 'bad_response';
}

function once(fn: () => void): () => void {
  let called = false;

  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
