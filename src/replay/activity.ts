/**
 * Activity of a replayed trace: input firing rates per mapped layer and timestep, and synaptic
 * operations (SOPs). Counted from the trace's recorded inputs, independent of how the layer is mapped.
 *
 * - Firing rate of layer l at timestep t: non-zero input elements / input elements, over the samples that
 *   ran t (for a spiking input the fraction of inputs that spiked; for the direct-encoded first layer or
 *   sums after pooling, the fraction of non-zero values).
 * - One SOP: one non-zero input element reaching one output neuron through one synapse (weight), i.e. a
 *   spike (or a non-zero value) times its fan-out. For a linear layer the fan-out is out_features; for a
 *   convolution it is (out_channels / groups) × the output positions whose receptive field holds the
 *   element (fewer at the borders; none for elements no window covers). docs/RUN_FOLDER.md.
 */
import type { MappedLayer } from '../network/shapes.js';
import type { TraceSample } from '../trace/types.js';

/** Fan-out of every input element (C·H·W order) of a mapped layer: synapses it reaches. */
export function fanOut(m: MappedLayer): Float64Array {
  const n = m.inputElements;
  const out = new Float64Array(n);
  if (m.kind === 'linear' || m.conv === null) {
    out.fill(m.outChannels);
    return out;
  }
  const [C, H, W] = m.inShape as number[];
  const [, HO, WO] = m.outShape as number[];
  const [kh, kw] = m.kernel;
  const { sh, sw, ph, pw, dh, dw } = m.conv;
  // Windows covering each row y (and column x): pairs (output row, kernel row) landing on it.
  const cover = (size: number, outSize: number, k: number, s: number, p: number, d: number) => {
    const c = new Float64Array(size);
    for (let o = 0; o < outSize; o++)
      for (let i = 0; i < k; i++) {
        const y = o * s - p + i * d;
        if (y >= 0 && y < size) c[y]++;
      }
    return c;
  };
  const cy = cover(H, HO, kh, sh, ph, dh);
  const cx = cover(W, WO, kw, sw, pw, dw);
  const perGroup = m.outChannels / m.groups;
  for (let c = 0; c < C; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) out[(c * H + y) * W + x] = perGroup * cy[y] * cx[x];
  return out;
}

export interface LayerActivity {
  layer: string;
  input_kind: 'spikes' | 'values';
  input_elements: number;
  /** Σ over samples of the timesteps the layer ran (the denominator of its rate, in frames). */
  frames: number;
  /** Non-zero input elements, summed over samples and timesteps. */
  active_inputs: number;
  firing_rate: number;
  sops: number;
}

export interface TimestepActivity {
  timestep: number;
  /** Samples that ran this timestep (in at least one layer). */
  samples: number;
  /** Over spiking-input layers only: spikes / (input elements × samples that ran t). */
  firing_rate: number;
  sops: number;
}

export interface RunActivity {
  sops: number;
  layers: LayerActivity[];
  timesteps: TimestepActivity[];
}

/** Accumulates activity sample by sample (typed arrays; one pass over each input frame). */
export class ActivityCounter {
  private readonly fan: Float64Array[];
  private readonly L: number;
  private readonly T: number;
  private readonly active: Float64Array;
  private readonly sop: Float64Array;
  private readonly frames: Float64Array;
  private readonly stepSamples: Float64Array;

  constructor(
    private readonly mapped: readonly MappedLayer[],
    private readonly kinds: ReadonlyArray<'spikes' | 'values'>,
    timesteps: number,
  ) {
    this.L = mapped.length;
    this.T = timesteps;
    this.fan = mapped.map(fanOut);
    this.active = new Float64Array(this.L * this.T);
    this.sop = new Float64Array(this.L * this.T);
    this.frames = new Float64Array(this.L * this.T);
    this.stepSamples = new Float64Array(this.T);
  }

  add(s: TraceSample): void {
    let ran = 0;
    for (let l = 0; l < this.L; l++) {
      const frames = s.inputs[l] ?? [];
      const fan = this.fan[l];
      ran = Math.max(ran, frames.length);
      for (let t = 0; t < frames.length && t < this.T; t++) {
        const f = frames[t];
        let a = 0;
        let ops = 0;
        if (f instanceof Float32Array) {
          for (let i = 0; i < f.length; i++)
            if (f[i] !== 0) {
              a++;
              ops += fan[i];
            }
        } else {
          const n = fan.length;
          for (let b = 0; b < f.length; b++) {
            const byte = f[b];
            if (byte === 0) continue;
            for (let k = 0; k < 8; k++)
              if (byte & (1 << k)) {
                const i = (b << 3) | k;
                if (i < n) {
                  a++;
                  ops += fan[i];
                }
              }
          }
        }
        const j = l * this.T + t;
        this.active[j] += a;
        this.sop[j] += ops;
        this.frames[j]++;
      }
    }
    for (let t = 0; t < ran && t < this.T; t++) this.stepSamples[t]++;
  }

  result(): RunActivity {
    const layers: LayerActivity[] = [];
    let total = 0;
    for (let l = 0; l < this.L; l++) {
      let a = 0;
      let ops = 0;
      let fr = 0;
      for (let t = 0; t < this.T; t++) {
        const j = l * this.T + t;
        a += this.active[j];
        ops += this.sop[j];
        fr += this.frames[j];
      }
      total += ops;
      const m = this.mapped[l];
      layers.push({
        layer: m.name,
        input_kind: this.kinds[l],
        input_elements: m.inputElements,
        frames: fr,
        active_inputs: a,
        firing_rate: fr > 0 ? a / (fr * m.inputElements) : 0,
        sops: ops,
      });
    }
    const timesteps: TimestepActivity[] = [];
    for (let t = 0; t < this.T; t++) {
      let spikes = 0;
      let slots = 0;
      let ops = 0;
      for (let l = 0; l < this.L; l++) {
        const j = l * this.T + t;
        ops += this.sop[j];
        if (this.kinds[l] !== 'spikes') continue;
        spikes += this.active[j];
        slots += this.frames[j] * this.mapped[l].inputElements;
      }
      timesteps.push({
        timestep: t + 1,
        samples: this.stepSamples[t],
        firing_rate: slots > 0 ? spikes / slots : 0,
        sops: ops,
      });
    }
    return { sops: total, layers, timesteps };
  }
}
