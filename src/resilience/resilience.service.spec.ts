import { Global, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { MetricsService } from '../observability/metrics.service';
import { UpstreamError } from '../suno/upstream-error';
import { httpError, resilienceTestConfig, seriesValue, upstreamError } from './resilience.fixtures';
import { ResilienceModule } from './resilience.module';
import { AttemptContext, ResilienceService, UpstreamCall } from './resilience.service';

const START = Date.parse('2026-01-01T00:00:00Z');
const READ: UpstreamCall = {
  operation: 'feed',
  opClass: 'read',
  host: 'studio',
  accountId: 'acct-1',
  requestId: 'req-1',
};
const SUBMIT: UpstreamCall = {
  operation: 'generate',
  opClass: 'submit',
  host: 'studio',
  accountId: 'acct-1',
  requestId: 'req-2',
};

/** An attempt function that fails with `failures` in order, then returns 'ok'. */
function scripted(...failures: Error[]): jest.Mock<Promise<string>, [AttemptContext]> {
  const queue = [...failures];

  return jest.fn<Promise<string>, [AttemptContext]>(() => {
    const next = queue.shift();

    return next ? Promise.reject(next) : Promise.resolve('ok');
  });
}

/** Lets pending promise callbacks run without moving the fake clock. */
async function flush(): Promise<void> {
  await jest.advanceTimersByTimeAsync(0);
}

describe('ResilienceService', () => {
  let metrics: MetricsService;
  let sut: ResilienceService;
  let logger: { warn: jest.SpyInstance; error: jest.SpyInstance; debug: jest.SpyInstance };

  const create = (overrides: Partial<AppConfig['resilience']> = {}) =>
    new ResilienceService(resilienceTestConfig(overrides), metrics);
  const retries = (reason: string, operation = 'feed') =>
    seriesValue(metrics.m.upstreamRetries, { operation, reason });
  const giveUps = (reason: string, operation = 'feed') =>
    seriesValue(metrics.m.upstreamGiveUps, { operation, reason });
  const settle = (promise: Promise<unknown>) =>
    promise.then(
      (value) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error }),
    );

  beforeEach(() => {
    jest.useFakeTimers({ now: START });
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    logger = {
      warn: jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined),
      error: jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined),
      debug: jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined),
    };
    metrics = new MetricsService();
    sut = create();
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('returns the first success', async () => {
    const attempt = scripted();

    await expect(sut.execute(READ, attempt)).resolves.toBe('ok');
    expect(attempt).toHaveBeenCalledWith({ attempt: 0 });
  });

  it('retries a read at once on reset', async () => {
    const attempt = scripted(upstreamError({ kind: 'reset' }));

    const result = sut.execute(READ, attempt);

    await expect(result).resolves.toBe('ok');
    expect(attempt.mock.calls.map(([ctx]) => ctx.attempt)).toEqual([0, 1]);
    expect(await retries('reset')).toBe(1);
  });

  it('retries a read after backoff on 503', async () => {
    const attempt = scripted(httpError(503));

    const result = sut.execute(READ, attempt);
    await jest.advanceTimersByTimeAsync(99);
    expect(attempt).toHaveBeenCalledTimes(1);

    await jest.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('ok');
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(await retries('status_503')).toBe(1);
  });

  it('doubles the backoff ceiling for the second retry', async () => {
    const attempt = scripted(
      upstreamError({ kind: 'timeout' }),
      upstreamError({ kind: 'bad_response' }),
    );

    const result = sut.execute(READ, attempt);
    await jest.advanceTimersByTimeAsync(100);
    expect(attempt).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(199);
    expect(attempt).toHaveBeenCalledTimes(2);

    await jest.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('ok');
  });

  it('makes at most three attempts', async () => {
    const last = httpError(503);
    const attempt = scripted(httpError(503), httpError(503), last, httpError(503));

    const outcome = settle(sut.execute(READ, attempt));
    await jest.advanceTimersByTimeAsync(10_000);

    expect((await outcome).error).toBe(last);
    expect(attempt).toHaveBeenCalledTimes(3);
    expect(await retries('status_503')).toBe(2);
    expect(await giveUps('max_attempts')).toBe(1);
  });

  it('waits for Retry-After when longer than backoff', async () => {
    const attempt = scripted(httpError(429, 2000));

    const result = sut.execute({ ...READ, deadlineMs: START + 10_000 }, attempt);
    await jest.advanceTimersByTimeAsync(1999);
    expect(attempt).toHaveBeenCalledTimes(1);

    await jest.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('ok');
    expect(await retries('status_429')).toBe(1);
  });

  it('holds other calls of the account until Retry-After ends', async () => {
    const first = scripted(httpError(429, 2000));
    const second = scripted();
    const firstResult = sut.execute({ ...READ, deadlineMs: START + 10_000 }, first);
    await flush();

    const secondResult = sut.execute({ ...READ, deadlineMs: START + 10_000 }, second);
    await jest.advanceTimersByTimeAsync(1999);
    expect(second).not.toHaveBeenCalled();

    await jest.advanceTimersByTimeAsync(1);
    await expect(Promise.all([firstResult, secondResult])).resolves.toEqual(['ok', 'ok']);
  });

  it('surfaces a 429 whose Retry-After passes the deadline', async () => {
    const rateLimited = httpError(429, 30_000);
    const attempt = scripted(rateLimited);

    const error = await sut
      .execute({ ...READ, deadlineMs: START + 5000 }, attempt)
      .catch((caught: unknown) => caught);

    expect(error).toBe(rateLimited);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(await giveUps('deadline')).toBe(1);
  });

  it('rejects later calls at the gate with 429', async () => {
    await sut
      .execute({ ...READ, deadlineMs: START + 5000 }, scripted(httpError(429, 30_000)))
      .catch(() => undefined);
    const attempt = scripted();

    const error = await sut
      .execute({ ...READ, deadlineMs: START + 5000 }, attempt)
      .catch((caught: unknown) => caught);

    expect(attempt).not.toHaveBeenCalled();
    expect(error).toMatchObject({ kind: 'http', status: 429, retryAfterMs: 30_000 });
    expect(await giveUps('rate_limit_gate')).toBe(1);
  });

  it('gives up when backoff passes the deadline', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.99);
    const attempt = scripted(httpError(502));

    const outcome = await settle(sut.execute({ ...READ, deadlineMs: START + 100 }, attempt));

    expect(outcome.error).toMatchObject({ status: 502 });
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(await giveUps('deadline')).toBe(1);
  });

  it('limits waits to backoffMaxMs without a deadline', async () => {
    const attempt = scripted(httpError(503, 30_000));

    const outcome = await settle(sut.execute(READ, attempt));

    expect(outcome.error).toMatchObject({ status: 503 });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it.each([400, 401, 402, 403, 404, 422])('rethrows %p untouched', async (status) => {
    const answer = httpError(status);
    const attempt = scripted(answer);

    await expect(sut.execute(READ, attempt)).rejects.toBe(answer);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
    expect((await metrics.m.upstreamGiveUps.get()).values).toHaveLength(0);
  });

  it('rethrows an error that is not an UpstreamError', async () => {
    const bug = new TypeError('boom');

    await expect(sut.execute(READ, scripted(bug))).rejects.toBe(bug);
  });

  it('gives up when the retry budget is spent', async () => {
    sut = create({ retryBudgetMinRetries: 1, retryBudgetRatio: 0 });
    const attempt = scripted(upstreamError({ kind: 'reset' }), upstreamError({ kind: 'reset' }));

    const outcome = await settle(sut.execute(READ, attempt));

    expect(outcome.error).toMatchObject({ kind: 'reset' });
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(await giveUps('budget_exhausted')).toBe(1);
  });

  it('stops at an open breaker without calling upstream', async () => {
    sut = create({ breakerThreshold: 2 });
    const failing = scripted(httpError(503), httpError(503), httpError(503));

    const first = settle(sut.execute(READ, failing));
    await jest.advanceTimersByTimeAsync(10_000);
    expect((await first).error).toMatchObject({ kind: 'circuit_open' });
    expect(failing).toHaveBeenCalledTimes(2);

    const attempt = scripted();
    const error = await sut.execute(READ, attempt).catch((caught: unknown) => caught);

    expect(attempt).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).retryAfterMs).toBeGreaterThan(0);
    expect(await giveUps('circuit_open')).toBe(2);
  });

  it.each([
    ['timeout', upstreamError({ kind: 'timeout', operation: 'generate' })],
    ['reset', upstreamError({ kind: 'reset', operation: 'generate' })],
    ['bad_response', upstreamError({ kind: 'bad_response', operation: 'generate' })],
    ['503', httpError(503)],
  ])('does not retry a submit on %s', async (_name, failure) => {
    const attempt = scripted(failure);

    const outcome = await settle(sut.execute(SUBMIT, attempt));

    expect(outcome.error).toBe(failure);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(await giveUps('ambiguous_submit', 'generate')).toBe(1);
  });

  it('retries a submit on connect', async () => {
    const attempt = scripted(upstreamError({ kind: 'connect', operation: 'generate' }));

    const result = sut.execute(SUBMIT, attempt);
    await jest.advanceTimersByTimeAsync(100);

    await expect(result).resolves.toBe('ok');
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(await retries('connect', 'generate')).toBe(1);
  });

  it('blocks the gate on a submit 429 without retrying', async () => {
    const rateLimited = httpError(429, 2000);
    const attempt = scripted(rateLimited);

    await expect(sut.execute(SUBMIT, attempt)).rejects.toBe(rateLimited);

    expect(attempt).toHaveBeenCalledTimes(1);
    expect(sut.gate.blockedUntil('acct-1', 'studio')).toBe(START + 2000);
    expect(await giveUps('rate_limited', 'generate')).toBe(1);
  });

  it('logs one warning per retry', async () => {
    const result = sut.execute(READ, scripted(httpError(503)));
    await jest.advanceTimersByTimeAsync(100);
    await result;

    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][0]).toMatchObject({
      request_id: 'req-1',
      account: 'acct-1',
      operation: 'feed',
      reason: 'status_503',
      delay_ms: 100,
      attempts: 1,
    });
  });

  it('logs one error line per give-up without bodies', async () => {
    const failure = upstreamError({
      kind: 'http',
      status: 500,
      bodySnippet: '<html>secret page</html>',
    });

    await sut.execute(READ, scripted(failure)).catch(() => undefined);

    expect(logger.error).toHaveBeenCalledTimes(1);
    const [fields, message] = logger.error.mock.calls[0] as [Record<string, unknown>, string];
    expect(fields).toMatchObject({
      request_id: 'req-1',
      account: 'acct-1',
      operation: 'feed',
      attempts: 1,
      reason: 'not_retryable',
      error_kind: 'http',
      status: 500,
    });
    expect(JSON.stringify(fields)).not.toContain('secret');
    expect(message).not.toContain('secret');
  });

  it('logs breaker and gate rejections at debug', async () => {
    await sut
      .execute({ ...READ, deadlineMs: START + 5000 }, scripted(httpError(429, 30_000)))
      .catch(() => undefined);
    logger.error.mockClear();

    await sut.execute({ ...READ, deadlineMs: START + 5000 }, scripted()).catch(() => undefined);

    expect(logger.error).not.toHaveBeenCalled();
    expect(logger.debug).toHaveBeenCalledTimes(1);
  });
});

describe('ResilienceModule', () => {
  @Global()
  @Module({ providers: [MetricsService], exports: [MetricsService] })
  class GlobalMetricsModule {}

  it('resolves ResilienceService from global providers', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(resilienceTestConfig()),
        GlobalMetricsModule,
        ResilienceModule,
      ],
    }).compile();

    expect(moduleRef.get(ResilienceService).breakers.snapshot()).toEqual([]);
  });
});
