import { parseRetryAfter } from './retry-after';

const NOW = Date.parse('2026-10-21T07:27:50Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('2', NOW)).toBe(2000);
    expect(parseRetryAfter(' 30 ', NOW)).toBe(30_000);
  });

  it('reads zero seconds as no wait', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
  });

  it('clamps a negative delta to zero', () => {
    expect(parseRetryAfter('-5', NOW)).toBe(0);
  });

  it('reads an IMF-fixdate relative to now', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT', NOW)).toBe(10_000);
  });

  it('reads the RFC 850 and asctime date forms', () => {
    const now = Date.parse('1994-11-06T08:49:30Z');

    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', now)).toBe(7000);
  });

  it('clamps a date in the past to zero', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:00:00 GMT', NOW)).toBe(0);
  });

  it('uses the first of repeated headers', () => {
    expect(parseRetryAfter(['3', '60'], NOW)).toBe(3000);
  });

  it('returns undefined for a missing header', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter([], NOW)).toBeUndefined();
  });

  it.each(['', 'soon', '1 2', 'Wed', 'Wed, 99 Foo 2026 07:28:00 GMT', '2s', '0x10'])(
    'returns undefined for garbage %p',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );
});
