import { fullJitterDelay } from './backoff';

const OPTIONS = { baseMs: 1000, maxMs: 60_000 };

/** Deterministic uniform source (mulberry32), so the sampled tests never flake. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);

    return ((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('fullJitterDelay', () => {
  it('doubles the ceiling per retry up to the cap', () => {
    const top = { ...OPTIONS, random: () => 0.999_999 };

    expect(fullJitterDelay(1, top)).toBe(999);
    expect(fullJitterDelay(2, top)).toBe(1999);
    expect(fullJitterDelay(3, top)).toBe(3999);
    expect(fullJitterDelay(7, top)).toBe(59_999);
    expect(fullJitterDelay(40, top)).toBe(59_999);
  });

  it('returns zero when the draw is zero', () => {
    expect(fullJitterDelay(3, { ...OPTIONS, random: () => 0 })).toBe(0);
  });

  it('stays within [0, ceiling) over many samples', () => {
    const random = seededRandom(42);

    for (let retry = 1; retry <= 8; retry++) {
      const ceiling = Math.min(OPTIONS.maxMs, OPTIONS.baseMs * 2 ** (retry - 1));
      const samples = Array.from({ length: 2000 }, () =>
        fullJitterDelay(retry, { ...OPTIONS, random }),
      );

      expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...samples)).toBeLessThan(ceiling);
    }
  });

  it('spreads samples across the whole range', () => {
    const random = seededRandom(7);
    const samples = Array.from({ length: 5000 }, () => fullJitterDelay(3, { ...OPTIONS, random }));
    const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;

    expect(Math.min(...samples)).toBeLessThan(200);
    expect(Math.max(...samples)).toBeGreaterThan(3800);
    expect(mean).toBeGreaterThan(1800);
    expect(mean).toBeLessThan(2200);
  });

  it('uses Math.random by default', () => {
    const delay = fullJitterDelay(1, OPTIONS);

    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThan(1000);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects retry number %p', (retry) => {
    expect(() => fullJitterDelay(retry, OPTIONS)).toThrow(RangeError);
  });
});
