import { mapUpstreamError } from './error-mapping';
import { UpstreamError, UpstreamErrorOptions } from './upstream-error';

function studio(options: Partial<UpstreamErrorOptions>): UpstreamError {
  return new UpstreamError({
    kind: 'http',
    operation: 'generate',
    host: 'studio',
    message: 'x',
    ...options,
  });
}

describe('mapUpstreamError', () => {
  it.each<[Partial<UpstreamErrorOptions>, number, string]>([
    [{ status: 402, body: { detail: 'Insufficient credits' } }, 402, 'INSUFFICIENT_CREDITS'],
    [{ status: 422, body: { detail: 'Token validation failed.' } }, 503, 'CAPTCHA_REQUIRED'],
    [
      { status: 422, body: { detail: [{ loc: ['body', 'x'], msg: 'field required' }] } },
      502,
      'UPSTREAM_REJECTED',
    ],
    [{ status: 400, body: { detail: 'Invalid request.' } }, 403, 'MODEL_NOT_ALLOWED'],
    [
      { status: 400, body: { detail: 'Prompt too long' }, operation: 'lyrics_submit' },
      400,
      'UPSTREAM_REJECTED',
    ],
    [{ status: 429, retryAfterMs: 2000 }, 429, 'RATE_LIMITED'],
    [{ status: 500, body: { message: 'x' } }, 502, 'UPSTREAM_ERROR'],
    [{ status: 503, bodySnippet: '<html>down</html>' }, 503, 'UPSTREAM_UNAVAILABLE'],
    [{ kind: 'timeout' }, 504, 'UPSTREAM_TIMEOUT'],
    [{ kind: 'bad_response', bodySnippet: '<html>' }, 502, 'UPSTREAM_BAD_RESPONSE'],
    [{ kind: 'circuit_open', retryAfterMs: 1500 }, 503, 'CIRCUIT_OPEN'],
    [{ kind: 'connect' }, 503, 'UPSTREAM_UNAVAILABLE'],
  ])('maps %j to %i %s', (options, status, code) => {
    const error = mapUpstreamError(studio(options));

    expect(error.status).toBe(status);
    expect(error.code).toBe(code);
    expect(error.message).not.toMatch(/undefined|<html/i);
  });

  it('carries Retry-After in whole seconds', () => {
    expect(mapUpstreamError(studio({ status: 429, retryAfterMs: 1200 })).retryAfterS).toBe(2);
  });

  it('keeps HTML out of the body snippet', () => {
    const error = mapUpstreamError(
      studio({ status: 502, bodySnippet: '<!doctype html><h1>Bad gateway</h1>' }),
    );

    expect(JSON.stringify(error.extra ?? {})).not.toMatch(/html/i);
  });

  it('passes a short non-HTML body through for diagnosis', () => {
    const error = mapUpstreamError(
      studio({ status: 500, bodySnippet: '{"message":"x"}', body: { message: 'x' } }),
    );

    expect(error.extra).toEqual({ upstream_body: '{"message":"x"}' });
  });
});
