import { UpstreamFailureKind } from '../suno/upstream-error';
import { httpError, upstreamError } from './resilience.fixtures';
import { OperationClass, RetryDecision, decideRetry, retryAfterToObey } from './retry-policy';

const failure = (kind: UpstreamFailureKind) => upstreamError({ kind });

describe('decideRetry', () => {
  const readLike: OperationClass[] = ['auth', 'read'];

  it.each(readLike)('retries %s at once on reset', (opClass) => {
    expect(decideRetry(opClass, failure('reset'))).toEqual({
      action: 'retry_now',
      reason: 'reset',
    });
  });

  it.each([
    ['connect', failure('connect'), 'connect'],
    ['timeout', failure('timeout'), 'timeout'],
    ['bad_response', failure('bad_response'), 'bad_response'],
    ['429', httpError(429), 'status_429'],
    ['502', httpError(502), 'status_502'],
    ['503', httpError(503), 'status_503'],
    ['504', httpError(504), 'status_504'],
  ])('backs off a read on %s', (_name, error, reason) => {
    expect(decideRetry('read', error)).toEqual({ action: 'retry_after_backoff', reason });
    expect(decideRetry('auth', error)).toEqual({ action: 'retry_after_backoff', reason });
  });

  it.each([400, 401, 402, 403, 404, 409, 422])('rethrows a read on %p', (status) => {
    expect(decideRetry('read', httpError(status))).toEqual({ action: 'rethrow' });
  });

  it.each([500, 501])('gives up a read on %p', (status) => {
    expect(decideRetry('read', httpError(status))).toEqual({
      action: 'give_up',
      reason: 'not_retryable',
    });
  });

  it('retries a submit only on connect', () => {
    expect(decideRetry('submit', failure('connect'))).toEqual({
      action: 'retry_after_backoff',
      reason: 'connect',
    });
  });

  it.each([
    ['reset', failure('reset')],
    ['timeout', failure('timeout')],
    ['bad_response', failure('bad_response')],
    ['500', httpError(500)],
    ['502', httpError(502)],
    ['503', httpError(503)],
    ['504', httpError(504)],
  ])('leaves an ambiguous submit %s to the caller', (_name, error) => {
    expect(decideRetry('submit', error)).toEqual({ action: 'give_up', reason: 'ambiguous_submit' });
  });

  it('gives up a submit on 429', () => {
    expect(decideRetry('submit', httpError(429, 2000))).toEqual({
      action: 'give_up',
      reason: 'rate_limited',
    });
  });

  it.each<[OperationClass, UpstreamFailureKind]>([
    ['read', 'circuit_open'],
    ['submit', 'circuit_open'],
    ['submit', 'bulkhead_full'],
  ])('never retries %s on %s', (opClass, kind) => {
    const expected: RetryDecision = {
      action: 'give_up',
      reason: kind === 'circuit_open' ? 'circuit_open' : 'bulkhead_full',
    };

    expect(decideRetry(opClass, failure(kind))).toEqual(expected);
  });

  it('gives up on an http failure without status', () => {
    expect(decideRetry('read', failure('http'))).toEqual({
      action: 'give_up',
      reason: 'not_retryable',
    });
  });
});

describe('retryAfterToObey', () => {
  it('obeys Retry-After on 429 and 503', () => {
    expect(retryAfterToObey(httpError(429, 2000))).toBe(2000);
    expect(retryAfterToObey(httpError(503, 500))).toBe(500);
  });

  it('ignores other statuses and a missing header', () => {
    expect(retryAfterToObey(httpError(502, 2000))).toBeUndefined();
    expect(retryAfterToObey(httpError(429))).toBeUndefined();
    expect(
      retryAfterToObey(upstreamError({ kind: 'circuit_open', retryAfterMs: 5000 })),
    ).toBeUndefined();
  });
});
