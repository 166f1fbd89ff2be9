import { Logger } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import {
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  FailureReason,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
} from 'cockatiel';
import { MetricsService } from '../observability/metrics.service';
import { Attr } from '../observability/span-attributes';
import { UpstreamError, UpstreamHost } from '../suno/upstream-error';

export type BreakerState = 'closed' | 'half_open' | 'open';

/** One breaker's state, as shown by `GET /v1/accounts` and health. */
export interface BreakerSnapshot {
  accountId: string;
  host: UpstreamHost;
  state: BreakerState;
  /** Time left until the next call may probe the upstream; 0 unless open. */
  retryAfterMs: number;
}

/** Target of a guarded call. `operation` only labels the `circuit_open` error. */
export interface BreakerTarget {
  accountId: string;
  host: UpstreamHost;
  operation: string;
}

export interface CircuitBreakersOptions {
  /** Consecutive server-side failures that open a breaker. */
  threshold: number;
  /** How long an open breaker rejects calls before it lets one probe through, in ms. */
  openMs: number;
  metrics: BreakerMetrics;
}

/** The instruments of `MetricsService.m` that breakers write to. */
export type BreakerMetrics = Pick<
  MetricsService['m'],
  'circuitBreakerState' | 'circuitBreakerTransitions'
>;

const STATE_GAUGE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** Span event attribute for the state entered; the shared `Attr` keys have none for it. */
const BREAKER_STATE_ATTR = 'suno.circuit_breaker.state';

/**
 * Hint for callers rejected while a probe is in flight. The probe's own outcome decides the
 * real wait, so this is an estimate, not a promise.
 */
const PROBE_IN_FLIGHT_RETRY_AFTER_MS = 1000;

interface Entry {
  accountId: string;
  host: UpstreamHost;
  policy: CircuitBreakerPolicy;
  /** `Date.now()` when the breaker last opened, matching cockatiel's own clock. */
  openedAtMs: number;
}

/**
 * One cockatiel circuit breaker per (account, upstream host), created on first use.
 *
 * The policy handles only server-side failures (`UpstreamError.isServerSideFailure`, which
 * covers connect, reset, timeout, bad response and 5xx). Any other error, 4xx responses
 * included, passes through unhandled. In cockatiel 3.2 an unhandled error in the closed
 * state neither counts as a failure nor resets the consecutive count, because the breaker
 * only receives handled failures and successes. Not counting a 4xx fits because the host did
 * respond, and not resetting fits because a 4xx does not show that the failures have stopped.
 * A half-open probe that ends in a 4xx closes the circuit. That is cockatiel's rule, kept
 * because the host did respond, and `threshold` new failures open the breaker again.
 *
 * cockatiel makes callers that arrive during a half-open probe wait for the probe. This
 * registry rejects them at once with `circuit_open` instead, so exactly one call probes.
 * cockatiel reads `Date.now()` for the open period, so tests drive it with jest fake timers.
 */
export class CircuitBreakers {
  private readonly logger = new Logger(CircuitBreakers.name);
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: CircuitBreakersOptions) {}

  /**
   * Runs `fn` through the target's breaker.
   *
   * @throws UpstreamError of kind `circuit_open`, with `retryAfterMs`, when the breaker is open
   *   or a half-open probe is in flight; otherwise whatever `fn` throws, unchanged.
   */
  async execute<T>(target: BreakerTarget, fn: () => Promise<T>): Promise<T> {
    const entry = this.entry(target.accountId, target.host);

    // cockatiel enters half-open synchronously inside `execute`, and nothing awaits between
    // this check and that call, so a second caller always sees the probe in flight.
    if (entry.policy.state === CircuitState.HalfOpen) {
      throw this.openError(target, PROBE_IN_FLIGHT_RETRY_AFTER_MS, 'a probe is in flight');
    }

    try {
      return await entry.policy.execute(fn);
    } catch (error) {
      if (isBrokenCircuitError(error)) {
        throw this.openError(target, this.remainingOpenMs(entry), 'the circuit is open');
      }
      throw error;
    }
  }

  /** Returns the breaker's state; an account never called is `closed`. */
  state(accountId: string, host: UpstreamHost): BreakerState {
    const entry = this.entries.get(key(accountId, host));

    return entry ? toBreakerState(entry.policy.state) : 'closed';
  }

  /**
   * Returns the time left until an open breaker lets a probe through, in ms. It is 0 when the
   * breaker is not open, and also when the open period is over but no call has probed yet.
   */
  retryAfterMs(accountId: string, host: UpstreamHost): number {
    const entry = this.entries.get(key(accountId, host));
    if (!entry || this.state(accountId, host) !== 'open') {
      return 0;
    }

    return this.remainingOpenMs(entry);
  }

  /** Lists every breaker created so far. */
  snapshot(): BreakerSnapshot[] {
    return [...this.entries.values()].map((entry) => ({
      accountId: entry.accountId,
      host: entry.host,
      state: this.state(entry.accountId, entry.host),
      retryAfterMs: this.retryAfterMs(entry.accountId, entry.host),
    }));
  }

  private entry(accountId: string, host: UpstreamHost): Entry {
    const existing = this.entries.get(key(accountId, host));
    if (existing) {
      return existing;
    }

    const policy = circuitBreaker(
      handleWhen((error) => error instanceof UpstreamError && error.isServerSideFailure),
      {
        halfOpenAfter: this.options.openMs,
        breaker: new ConsecutiveBreaker(this.options.threshold),
      },
    );
    const entry: Entry = { accountId, host, policy, openedAtMs: 0 };
    policy.onBreak((reason) => {
      entry.openedAtMs = Date.now();
      this.recordTransition(entry, 'open', describeFailure(reason));
    });
    policy.onHalfOpen(() => this.recordTransition(entry, 'half_open'));
    policy.onReset(() => this.recordTransition(entry, 'closed'));
    this.entries.set(key(accountId, host), entry);
    this.options.metrics.circuitBreakerState.set({ account: accountId, upstream: host }, 0);

    return entry;
  }

  private recordTransition(entry: Entry, state: BreakerState, cause?: string): void {
    const labels = { account: entry.accountId, upstream: entry.host };
    this.options.metrics.circuitBreakerState.set(labels, STATE_GAUGE_VALUE[state]);
    this.options.metrics.circuitBreakerTransitions.inc({ ...labels, state });
    trace.getActiveSpan()?.addEvent('circuit_breaker.transition', {
      [Attr.account]: entry.accountId,
      [Attr.upstream]: entry.host,
      [BREAKER_STATE_ATTR]: state,
    });

    const fields = {
      event: 'circuit_breaker.transition',
      account: entry.accountId,
      upstream: entry.host,
      state,
    };
    if (state === 'open') {
      this.logger.warn(
        { ...fields, cause, open_ms: this.options.openMs },
        `Circuit breaker opened for account ${entry.accountId} on ${entry.host}`,
      );
      return;
    }
    this.logger.log(
      fields,
      `Circuit breaker for account ${entry.accountId} on ${entry.host} is now ${state}`,
    );
  }

  private remainingOpenMs(entry: Entry): number {
    return Math.max(0, entry.openedAtMs + this.options.openMs - Date.now());
  }

  private openError(target: BreakerTarget, retryAfterMs: number, reason: string): UpstreamError {
    return new UpstreamError({
      kind: 'circuit_open',
      operation: target.operation,
      host: target.host,
      message:
        `Circuit breaker for account ${target.accountId} on ${target.host} ` +
        `rejected the call because ${reason}`,
      retryAfterMs,
    });
  }
}

function key(accountId: string, host: UpstreamHost): string {
  // The host never contains ':', so the key stays unambiguous whatever the account id holds.
  return `${host}:${accountId}`;
}

function toBreakerState(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half_open';
    case CircuitState.Open:
    case CircuitState.Isolated:
      return 'open';
    default: {
      const unknownState: never = state;
      throw new Error(`unknown circuit state ${String(unknownState)}`);
    }
  }
}

/** Names the failure that opened the breaker without its message, which may quote a body. */
function describeFailure(reason: FailureReason<unknown> | { isolated: true }): string {
  if (!('error' in reason)) {
    return 'isolated' in reason ? 'isolated' : 'result';
  }
  if (!(reason.error instanceof UpstreamError)) {
    return reason.error.name;
  }

  return reason.error.status === undefined
    ? reason.error.kind
    : `${reason.error.kind}_${reason.error.status}`;
}
