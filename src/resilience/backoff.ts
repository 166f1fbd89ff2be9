/** Settings of the exponential backoff between retries. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay, in milliseconds. */
  baseMs: number;
  /** Largest ceiling any retry's delay can reach, in milliseconds. */
  maxMs: number;
  /** Uniform random source in [0, 1), injectable so that tests can pin the jitter. */
  random?: () => number;
}

/**
 * Computes the delay before retry `retry` (1-based) with full jitter: a uniform draw from
 * [0, min(maxMs, baseMs × 2^(retry − 1))), in whole milliseconds.
 *
 * This is a plain function, not cockatiel's `ExponentialBackoff` with `fullJitterGenerator`.
 * cockatiel 3.2 draws from `Math.random` internally and keeps the attempt count in backoff
 * state. The retry loop instead needs a stateless delay that it can compare with
 * `Retry-After` and the caller's deadline before it commits to waiting.
 *
 * @throws RangeError when `retry` is not a positive integer.
 */
export function fullJitterDelay(retry: number, options: BackoffOptions): number {
  if (!Number.isInteger(retry) || retry < 1) {
    throw new RangeError(`retry must be a positive integer, got ${retry}`);
  }

  const random = options.random ?? Math.random;
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** (retry - 1));

  return Math.floor(random() * ceiling);
}
