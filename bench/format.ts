import type { Spread } from './stats';

/** `median (min–max)`, or just the median when there was one run. */
export function formatSpread(value: Spread, digits: number): string {
  if (!Number.isFinite(value.median)) return 'n/a';

  const median = value.median.toFixed(digits);
  if (value.runs.length < 2) return median;

  return `${median} (${value.min.toFixed(digits)}–${value.max.toFixed(digits)})`;
}

export function formatNumber(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function formatPercent(ratio: number, digits = 1): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(digits)}%` : 'n/a';
}

export function formatMegabytes(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : 'n/a';
}
