import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../observability/metrics.service';
import { UpstreamError, UpstreamHost } from '../suno/upstream-error';
import { fullJitterDelay } from './backoff';
import { Bulkheads } from './bulkheads';
import { CircuitBreakers } from './circuit-breakers';
import { RateLimitGate } from './rate-limit-gate';
import { RetryBudgets } from './retry-budget';
import {
  GiveUpReason,
  OperationClass,
  RetryDecision,
  decideRetry,
  retryAfterToObey,
} from './retry-policy';
import { sleep } from './sleep';

export type { GiveUpReason, OperationClass } from './retry-policy';

/** One logical upstream call, which may take several attempts. */
export interface UpstreamCall {
  /** Upstream operation name as used in metrics, e.g. `feed` or `generate`. */
  operation: string;
  opClass: OperationClass;
  host: UpstreamHost;
  accountId: string;
  /**
   * Epoch ms by which the whole logical call must end. Without it, no single wait (backoff,
   * `Retry-After` or rate-limit gate) may exceed `backoffMaxMs`.
   */
  deadlineMs?: number;
  /** Request id, for logs. */
  requestId?: string;
}

/** Information passed to each attempt. */
export interface AttemptContext {
  /** 0 for the first try, so it equals the span attribute `http.request.resend_count`. */
  attempt: number;
}

type RetryDecisionToRetry = Extract<RetryDecision, { action: 'retry_now' | 'retry_after_backoff' }>;

/** Give-ups already reported elsewhere (breaker transition, earlier 429), so logged at debug. */
const QUIET_GIVE_UPS: ReadonlySet<GiveUpReason> = new Set([
  'circuit_open',
  'rate_limit_gate',
  'bulkhead_full',
]);

/**
 * Runs upstream calls under the retry policy, the per-account retry budget, the circuit
 * breaker per (account, host) and the rate-limit gate. It also owns the per-account
 * bulkheads, which the generation service takes explicitly around a running generation.
 *
 * | Failure of an attempt                | auth, read                    | submit              |
 * | ------------------------------------ | ----------------------------- | ------------------- |
 * | `reset` (socket dropped early)       | retry at once                 | give up, reconcile  |
 * | `connect` (request never sent)       | retry after backoff           | retry after backoff |
 * | `timeout`, `bad_response`, 502–504   | retry after backoff (1)       | give up, reconcile  |
 * | 429                                  | retry after backoff (1)       | give up             |
 * | other 5xx                            | give up                       | give up, reconcile  |
 * | other 4xx (400, 401, 403, 404, 422…) | rethrow, not a give-up        | same                |
 * | `circuit_open`                       | give up at once               | same                |
 *
 * (1) The wait is the longer of the full-jitter backoff and `Retry-After`. "Give up" rethrows
 * the last error; "reconcile" means the caller must check upstream whether the submit took
 * effect. A 429 or 503 with `Retry-After` also closes the rate-limit gate for the account
 * and host. Every attempt passes the gate and the breaker. A call makes at most
 * `maxAttempts` attempts (the config allows 1–3), and each retry takes one unit of the
 * account's retry budget. A retry whose wait would pass the deadline is not made, so a 429
 * reaches the caller with its `retryAfterMs`.
 */
@Injectable()
export class ResilienceService {
  readonly breakers: CircuitBreakers;
  readonly bulkheads: Bulkheads;
  readonly budgets: RetryBudgets;
  readonly gate: RateLimitGate;
  private readonly logger = new Logger(ResilienceService.name);
  private readonly settings: AppConfig['resilience'];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    const settings = config.resilience;
    this.settings = settings;
    this.breakers = new CircuitBreakers({
      threshold: settings.breakerThreshold,
      openMs: settings.breakerOpenMs,
      metrics: metrics.m,
    });
    this.bulkheads = new Bulkheads({
      limit: settings.bulkheadLimit,
      queueSize: settings.bulkheadQueue,
      queueTimeoutMs: settings.bulkheadQueueTimeoutMs,
      metrics: metrics.m,
    });
    this.budgets = new RetryBudgets({
      windowMs: settings.retryBudgetWindowMs,
      ratio: settings.retryBudgetRatio,
      minRetries: settings.retryBudgetMinRetries,
    });
    this.gate = new RateLimitGate();
  }

  /**
   * Runs `attemptFn` until it succeeds or the policy gives up.
   *
   * @throws the last `UpstreamError` unchanged, for the caller to map to an AppError. An
   *   error that is not an UpstreamError is rethrown at once, without a retry.
   */
  async execute<T>(call: UpstreamCall, attemptFn: (ctx: AttemptContext) => Promise<T>): Promise<T> {
    this.budgets.forAccount(call.accountId).recordCall();

    for (let attempt = 0; ; attempt++) {
      await this.passGate(call, attempt);

      try {
        return await this.breakers.execute(call, () => attemptFn({ attempt }));
      } catch (error) {
        const delayMs = this.planRetry(call, error, attempt);
        // TODO: accept an AbortSignal so that a client disconnect ends this wait early.
        if (delayMs > 0) {
          await sleep(delayMs);
        }
      }
    }
  }

  private async passGate(call: UpstreamCall, attempt: number): Promise<void> {
    try {
      await this.gate.waitOrReject({ ...call, deadlineMs: this.waitLimitMs(call) });
    } catch (error) {
      if (!(error instanceof UpstreamError)) {
        throw error;
      }
      this.giveUp(call, error, { attempts: attempt, reason: 'rate_limit_gate' });
    }
  }

  /** Returns the delay before the next attempt, or throws when the call ends here. */
  private planRetry(call: UpstreamCall, error: unknown, attempt: number): number {
    if (!(error instanceof UpstreamError)) {
      // Not an upstream failure (a bug or a caller's own error), so there is nothing to retry.
      throw error;
    }

    this.obeyRetryAfter(call, error);
    const decision = decideRetry(call.opClass, error);
    switch (decision.action) {
      case 'rethrow':
        throw error;
      case 'give_up': {
        // A breaker rejection sends nothing, so it does not count as an attempt.
        const attempts = error.kind === 'circuit_open' ? attempt : attempt + 1;

        return this.giveUp(call, error, { attempts, reason: decision.reason });
      }
      case 'retry_now':
      case 'retry_after_backoff':
        return this.scheduleRetry(call, error, attempt + 1, decision);
      default: {
        const unknownDecision: never = decision;
        throw new Error(`unknown retry decision ${JSON.stringify(unknownDecision)}`);
      }
    }
  }

  /** Checks attempts, deadline and budget, in that order, so a refused retry costs no budget. */
  private scheduleRetry(
    call: UpstreamCall,
    error: UpstreamError,
    attempts: number,
    decision: RetryDecisionToRetry,
  ): number {
    if (attempts >= this.settings.maxAttempts) {
      return this.giveUp(call, error, { attempts, reason: 'max_attempts' });
    }

    const delayMs = decision.action === 'retry_now' ? 0 : this.backoffDelayMs(attempts, error);
    if (Date.now() + delayMs > this.waitLimitMs(call)) {
      return this.giveUp(call, error, { attempts, reason: 'deadline' });
    }

    if (!this.budgets.forAccount(call.accountId).tryAcquire()) {
      return this.giveUp(call, error, { attempts, reason: 'budget_exhausted' });
    }

    this.metrics.m.upstreamRetries.inc({ operation: call.operation, reason: decision.reason });
    this.logger.warn(
      {
        ...this.logFields(call, error),
        event: 'upstream.retry',
        attempts,
        reason: decision.reason,
        delay_ms: delayMs,
      },
      `Retrying ${call.operation} for account ${call.accountId} in ${delayMs} ms ` +
        `after ${decision.reason}`,
    );

    return delayMs;
  }

  /** Returns the jittered backoff, or the upstream's `Retry-After` when that is longer. */
  private backoffDelayMs(retry: number, error: UpstreamError): number {
    const jittered = fullJitterDelay(retry, {
      baseMs: this.settings.backoffBaseMs,
      maxMs: this.settings.backoffMaxMs,
    });

    return Math.max(jittered, error.retryAfterMs ?? 0);
  }

  private obeyRetryAfter(call: UpstreamCall, error: UpstreamError): void {
    const retryAfterMs = retryAfterToObey(error);
    if (retryAfterMs === undefined) {
      return;
    }

    this.gate.block(call.accountId, call.host, Date.now() + retryAfterMs);
  }

  /** Epoch ms that no wait may pass: the caller's deadline, else one maximum backoff from now. */
  private waitLimitMs(call: UpstreamCall): number {
    return call.deadlineMs ?? Date.now() + this.settings.backoffMaxMs;
  }

  private giveUp(
    call: UpstreamCall,
    error: UpstreamError,
    outcome: { attempts: number; reason: GiveUpReason },
  ): never {
    this.metrics.m.upstreamGiveUps.inc({ operation: call.operation, reason: outcome.reason });
    const fields = { ...this.logFields(call, error), event: 'upstream.give_up', ...outcome };
    const message =
      `Gave up on ${call.operation} for account ${call.accountId} ` +
      `after ${outcome.attempts} attempt(s) (reason ${outcome.reason})`;
    if (QUIET_GIVE_UPS.has(outcome.reason)) {
      this.logger.debug(fields, message);
    } else {
      this.logger.error(fields, message);
    }

    throw error;
  }

  /** Ids and the failure's shape only: bodies and messages may quote upstream content. */
  private logFields(call: UpstreamCall, error: UpstreamError): Record<string, unknown> {
    return {
      request_id: call.requestId,
      account: call.accountId,
      operation: call.operation,
      upstream: call.host,
      error_kind: error.kind,
      status: error.status,
      retry_after_ms: error.retryAfterMs,
    };
  }
}
