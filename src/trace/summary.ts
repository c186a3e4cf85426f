/**
 * The summary kept in a trace's footer: accuracy, average exit timestep, exit histogram and the input
 * spike rate of every layer at every timestep. Accumulated sample by sample, in constant memory.
 */
import type { TraceHeader, TraceSample, TraceSummary } from './types.js';

const POP8 = new Uint8Array(256);
for (let i = 1; i < 256; i++) POP8[i] = (i & 1) + POP8[i >> 1];

/**
 * Active elements of one frame: set bits of a packed spike frame; non-zero values otherwise (±0 are zero,
 * NaN is not).
 */
export function activeElements(frame: Uint8Array | Float32Array): number {
  let c = 0;
  if (frame instanceof Uint8Array) {
    for (let i = 0; i < frame.length; i++) c += POP8[frame[i]];
    return c;
  }
  // Branch-free on the float bits (x << 1 drops the sign): random sparsity defeats branch prediction.
  const u = new Uint32Array(frame.buffer, frame.byteOffset, frame.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i] << 1;
    c += (x | -x) >>> 31;
  }
  return c;
}

export class SummaryAccumulator {
  private n = 0;
  private labelled = 0;
  private correct = 0;
  private timestepSum = 0;
  private histogram: number[] = [];
  /** Σ fraction active and number of samples, per layer per timestep. */
  private rateSum: number[][] = [];
  private rateCount: number[][] = [];

  /** With a header, the histogram spans every possible exit and every layer has a rate row. */
  constructor(header?: TraceHeader) {
    if (header) this.shape(header);
  }

  private shape(header: TraceHeader): void {
    const exits = header.layers[header.layers.length - 1]?.timesteps ?? header.policy.timesteps;
    while (this.histogram.length < exits) this.histogram.push(0);
    while (this.rateSum.length < header.layers.length) {
      this.rateSum.push([]);
      this.rateCount.push([]);
    }
  }

  /**
   * Adds one sample. `active[l][t]`, when given, is the number of non-zero input elements of frame
   * inputs[l][t] (the writer has counted them already); otherwise they are counted here.
   */
  add(sample: TraceSample, header: TraceHeader, active?: ArrayLike<ArrayLike<number>>): void {
    this.shape(header);
    this.n++;
    if (sample.label >= 0) {
      this.labelled++;
      if (sample.prediction === sample.label) this.correct++;
    }
    const t = sample.exitTimestep;
    this.timestepSum += t;
    while (this.histogram.length < t) this.histogram.push(0);
    if (t >= 1) this.histogram[t - 1]++;
    for (let l = 0; l < sample.inputs.length; l++) {
      const frames = sample.inputs[l];
      const n = header.layers[l].input_elements;
      const sum = this.rateSum[l];
      const count = this.rateCount[l];
      for (let s = 0; s < frames.length; s++) {
        const k = active ? active[l][s] : activeElements(frames[s]);
        if (sum.length <= s) {
          sum.push(0);
          count.push(0);
        }
        sum[s] += k / n;
        count[s]++;
      }
    }
  }

  result(): TraceSummary {
    return {
      samples: this.n,
      accuracy: this.labelled > 0 ? this.correct / this.labelled : null,
      avg_timesteps: this.n > 0 ? this.timestepSum / this.n : 0,
      exit_histogram: [...this.histogram],
      spike_rate: this.rateSum.map((row, l) => row.map((s, t) => s / this.rateCount[l][t])),
    };
  }
}
