/** Percentiles and a one-line summary for benchmark samples (milliseconds). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export function summary(label: string, samples: readonly number[]): string {
  const f = (n: number) => n.toFixed(1).padStart(7);
  return `${label.padEnd(44)} n=${String(samples.length).padStart(4)}  p50=${f(percentile(samples, 50))} ms  p99=${f(percentile(samples, 99))} ms  max=${f(Math.max(...samples))} ms`;
}
