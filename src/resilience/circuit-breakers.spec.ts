import { Logger } from '@nestjs/common';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { UpstreamError } from '../suno/upstream-error';
import { BreakerTarget, CircuitBreakers } from './circuit-breakers';
import {
  httpError,
  resilienceInstruments,
  seriesValue,
  upstreamError,
} from './resilience.fixtures';

const TARGET: BreakerTarget = { accountId: 'acct-1', host: 'studio', operation: 'feed' };
const THRESHOLD = 3;
const OPEN_MS = 10_000;

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });

  return { promise, resolve };
}

describe('CircuitBreakers', () => {
  let metrics: ReturnType<typeof resilienceInstruments>;
  let sut: CircuitBreakers;

  const fail = (error: UpstreamError) =>
    sut.execute(TARGET, () => Promise.reject(error)).catch((caught: unknown) => caught);
  const succeed = () => sut.execute(TARGET, () => Promise.resolve('ok'));
  const openBreaker = async () => {
    for (let i = 0; i < THRESHOLD; i++) {
      await fail(httpError(503));
    }
  };

  beforeEach(() => {
    jest.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    metrics = resilienceInstruments();
    sut = new CircuitBreakers({ threshold: THRESHOLD, openMs: OPEN_MS, metrics });
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('opens after exactly threshold server-side failures', async () => {
    await fail(httpError(503));
    await fail(upstreamError({ kind: 'timeout' }));
    expect(sut.state('acct-1', 'studio')).toBe('closed');

    await fail(upstreamError({ kind: 'reset' }));

    expect(sut.state('acct-1', 'studio')).toBe('open');
  });

  it('ignores 4xx answers', async () => {
    for (let i = 0; i < THRESHOLD * 2; i++) {
      await fail(httpError(404));
      await fail(httpError(429));
    }

    expect(sut.state('acct-1', 'studio')).toBe('closed');
  });

  it('keeps the failure count across a 4xx', async () => {
    await fail(httpError(503));
    await fail(httpError(503));
    await fail(httpError(401));

    await fail(httpError(502));

    expect(sut.state('acct-1', 'studio')).toBe('open');
  });

  it('resets the failure count on success', async () => {
    await fail(httpError(503));
    await fail(httpError(503));
    await succeed();

    await fail(httpError(503));
    await fail(httpError(503));

    expect(sut.state('acct-1', 'studio')).toBe('closed');
  });

  it('passes errors through unchanged', async () => {
    const original = httpError(422);

    await expect(fail(original)).resolves.toBe(original);
  });

  it('answers circuit_open at once while open', async () => {
    await openBreaker();
    jest.advanceTimersByTime(4000);
    const attempt = jest.fn(() => Promise.resolve('ok'));

    const error = await sut.execute(TARGET, attempt).catch((caught: unknown) => caught);

    expect(attempt).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      kind: 'circuit_open',
      host: 'studio',
      operation: 'feed',
      retryAfterMs: 6000,
    });
    expect(sut.retryAfterMs('acct-1', 'studio')).toBe(6000);
  });

  it('keeps breakers apart per account and host', async () => {
    await openBreaker();

    expect(sut.state('acct-1', 'clerk')).toBe('closed');
    expect(sut.state('acct-2', 'studio')).toBe('closed');
    await expect(
      sut.execute({ ...TARGET, accountId: 'acct-2' }, () => Promise.resolve(1)),
    ).resolves.toBe(1);
  });

  it('lets a single probe through when half-open', async () => {
    await openBreaker();
    jest.advanceTimersByTime(OPEN_MS);
    const probe = deferred<string>();
    const second = jest.fn(() => Promise.resolve('second'));

    const probeCall = sut.execute(TARGET, () => probe.promise);
    const secondError = await sut.execute(TARGET, second).catch((caught: unknown) => caught);

    expect(sut.state('acct-1', 'studio')).toBe('half_open');
    expect(second).not.toHaveBeenCalled();
    expect(secondError).toMatchObject({ kind: 'circuit_open' });

    probe.resolve('probe');
    await expect(probeCall).resolves.toBe('probe');
    expect(sut.state('acct-1', 'studio')).toBe('closed');
  });

  it('reopens when the probe fails', async () => {
    await openBreaker();
    jest.advanceTimersByTime(OPEN_MS);

    await fail(httpError(503));

    expect(sut.state('acct-1', 'studio')).toBe('open');
    expect(sut.retryAfterMs('acct-1', 'studio')).toBe(OPEN_MS);
  });

  it('closes when the probe gets a 4xx', async () => {
    await openBreaker();
    jest.advanceTimersByTime(OPEN_MS);

    await fail(httpError(404));

    expect(sut.state('acct-1', 'studio')).toBe('closed');
  });

  it('reports state in a snapshot', async () => {
    await openBreaker();
    await sut.execute({ ...TARGET, host: 'clerk' }, () => Promise.resolve(1));

    expect(sut.snapshot()).toEqual([
      { accountId: 'acct-1', host: 'studio', state: 'open', retryAfterMs: OPEN_MS },
      { accountId: 'acct-1', host: 'clerk', state: 'closed', retryAfterMs: 0 },
    ]);
  });

  it('sets the state gauge and counts transitions', async () => {
    const labels = { account: 'acct-1', upstream: 'studio' };
    await succeed();
    expect(await seriesValue(metrics.circuitBreakerState, labels)).toBe(0);

    await openBreaker();
    expect(await seriesValue(metrics.circuitBreakerState, labels)).toBe(2);

    jest.advanceTimersByTime(OPEN_MS);
    const probe = deferred<string>();
    const probeCall = sut.execute(TARGET, () => probe.promise);
    expect(await seriesValue(metrics.circuitBreakerState, labels)).toBe(1);

    probe.resolve('ok');
    await probeCall;
    expect(await seriesValue(metrics.circuitBreakerState, labels)).toBe(0);
    for (const state of ['open', 'half_open', 'closed']) {
      expect(await seriesValue(metrics.circuitBreakerTransitions, { ...labels, state })).toBe(1);
    }
  });

  it('logs each transition once', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const log = jest.spyOn(Logger.prototype, 'log');

    await openBreaker();
    jest.advanceTimersByTime(OPEN_MS);
    await succeed();

    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatchObject({
      account: 'acct-1',
      upstream: 'studio',
      state: 'open',
      cause: 'http_503',
    });
    expect(log).toHaveBeenCalledTimes(2);
    expect(log.mock.calls.map((call) => (call[0] as { state: string }).state)).toEqual([
      'half_open',
      'closed',
    ]);
  });

  it('adds a span event on the active span', async () => {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    const span = trace.wrapSpanContext({
      traceId: '1'.repeat(32),
      spanId: '2'.repeat(16),
      traceFlags: 1,
    });
    const addEvent = jest.spyOn(span, 'addEvent');

    try {
      await context.with(trace.setSpan(ROOT_CONTEXT, span), openBreaker);
    } finally {
      context.disable();
    }

    expect(addEvent).toHaveBeenCalledWith('circuit_breaker.transition', {
      'suno.account': 'acct-1',
      'suno.upstream': 'studio',
      'suno.circuit_breaker.state': 'open',
    });
  });
});
