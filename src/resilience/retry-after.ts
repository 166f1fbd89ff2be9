/** Delta-seconds form of `Retry-After`; RFC 9110 allows only digits, a sign is tolerated. */
const DELTA_SECONDS = /^-?\d+(\.\d+)?$/;

/** All three HTTP-date forms of RFC 9110 (IMF-fixdate, RFC 850, asctime) start with a day name. */
const HTTP_DATE_START = /^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,? /i;

/** The asctime form carries no zone, although RFC 9110 defines it as GMT. */
const ASCTIME = /^[a-z]{3} [a-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/i;

/**
 * Parses a `Retry-After` header into milliseconds to wait from `nowMs`.
 *
 * Accepts delta-seconds (`"2"`) and HTTP-dates (`"Wed, 21 Oct 2026 07:28:00 GMT"`). A date in
 * the past or a negative delta becomes 0. Returns undefined when the header is missing or
 * is neither form. When the header repeats, the first value counts.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs: number,
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) {
    return undefined;
  }

  const text = raw.trim();
  if (DELTA_SECONDS.test(text)) {
    return Math.max(0, Math.round(Number(text) * 1000));
  }

  if (!HTTP_DATE_START.test(text)) {
    return undefined;
  }

  const dateMs = Date.parse(ASCTIME.test(text) ? `${text} GMT` : text);
  if (Number.isNaN(dateMs)) {
    return undefined;
  }

  return Math.max(0, dateMs - nowMs);
}
