import { MAX_REQUEST_TIMEOUT_MS, parseRequestTimeout } from './request-deadline';

describe('parseRequestTimeout', () => {
  it('uses the default without a header', () => {
    expect(parseRequestTimeout(undefined, 3000)).toEqual({ ok: true, ms: 3000 });
  });

  it.each([
    ['1', 1],
    [' 2500 ', 2500],
    [String(MAX_REQUEST_TIMEOUT_MS), MAX_REQUEST_TIMEOUT_MS],
  ])('accepts %j', (header, ms) => {
    expect(parseRequestTimeout(header, 3000)).toEqual({ ok: true, ms });
  });

  it.each(['', '0', '-1', '1.5', '1e3', 'abc', String(MAX_REQUEST_TIMEOUT_MS + 1), '99999999'])(
    'rejects %j',
    (header) => {
      const result = parseRequestTimeout(header, 3000);

      expect(result.ok).toBe(false);
      expect(result.ok ? undefined : result.error.status).toBe(400);
      expect(result.ok ? undefined : result.error.code).toBe('VALIDATION_FAILED');
    },
  );

  it('rejects a repeated header', () => {
    expect(parseRequestTimeout(['100', '200'], 3000).ok).toBe(false);
  });
});
