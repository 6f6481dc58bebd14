/** A figure measured in several rounds: its median and its spread (lowest and highest). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

/** Median (the mean of the middle two for an even count), lowest and highest of `values`. */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('spreadOf needs at least one value');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], rounds: [...values] };
}

/**
 * The engine's ratio to a peer, round by round: each round's engine rate over the same round's peer
 * rate, so that a noisy stretch of the machine slows both sides of one ratio rather than one side of
 * another. Rounds where either side is missing are left out.
 */
export function pairedRatios(engine: readonly number[], peer: readonly number[]): Spread | undefined {
  const ratios = engine.flatMap((e, i) => (peer[i] > 0 ? [e / peer[i]] : []));
  return ratios.length > 0 ? spreadOf(ratios) : undefined;
}

/** `1.23× (1.10–1.31)`: a median ratio with its spread. */
export const formatRatio = (s: Spread): string => `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;

/** `3,728 (3,500–3,900)`: a median rate with its spread. */
export const formatRate = (s: Spread): string => `${Math.round(s.median).toLocaleString('en-US')} (${Math.round(s.min).toLocaleString('en-US')}–${Math.round(s.max).toLocaleString('en-US')})`;
