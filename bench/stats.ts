/**
 * bench/stats: order statistics for benchmark samples (median, nearest-rank percentiles).
 * Pure functions on numbers; never reads files or clocks.
 */

export interface Summary {
  n: number;
  min: number;
  median: number;
  p90: number;
  max: number;
}

/** Median, p90 (nearest rank: the smallest value with ≥ 90 % of samples at or below it), min, max. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize needs at least one sample');
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const at = (i: number): number => s[Math.min(n - 1, Math.max(0, i))] as number;
  const median = n % 2 === 1 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
  return { n, min: at(0), median, p90: at(Math.ceil(0.9 * n) - 1), max: at(n - 1) };
}

/** Median of possibly empty samples: NaN when there are none. */
export function medianOf(samples: readonly number[]): number {
  return samples.length === 0 ? Number.NaN : summarize(samples).median;
}
