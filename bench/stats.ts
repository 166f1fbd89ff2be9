/** Median and range of one figure over the measured runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** The value of each run, in run order. */
  runs: number[];
}

/**
 * Returns the p-th percentile (0–100) of ascending `sorted` values by the nearest-rank
 * method, or NaN for an empty list.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;

  const rank = Math.ceil((p / 100) * sorted.length);

  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;

  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);

  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function spread(values: number[]): Spread {
  return {
    median: median(values),
    min: values.length === 0 ? Number.NaN : Math.min(...values),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
    runs: values,
  };
}

/** Collects samples in fixed-size typed chunks, so a long run does not grow one huge array. */
export class SampleBuffer {
  private readonly chunks: Float64Array[] = [];
  private current = new Float64Array(65_536);
  private used = 0;

  add(value: number): void {
    if (this.used === this.current.length) {
      this.chunks.push(this.current);
      this.current = new Float64Array(65_536);
      this.used = 0;
    }
    this.current[this.used] = value;
    this.used += 1;
  }

  get size(): number {
    return this.chunks.length * 65_536 + this.used;
  }

  /** All samples in ascending order. */
  sorted(): Float64Array {
    const all = new Float64Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    all.set(this.current.subarray(0, this.used), offset);

    return all.sort();
  }
}
