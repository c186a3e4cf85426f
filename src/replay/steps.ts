/**
 * The steps of a sample and what each waits for: the one home of the dependency rules the replay
 * (`replay.ts`) and the critical path (`critical-path.ts`) share, so per-layer timesteps (LD-SNN) are
 * modelled once.
 *
 * A step is one layer at one of its timesteps, (l, t) with t < T_l (each layer its own T_l under the
 * layerwise policy, docs/SOURCES.md §1). Layer l's input frame t is made of layer l−1's output frames as
 * the engine aligned them (`alignFrames` in snn/engine.ts):
 * - equal T: frame t;
 * - repeat, expanding (T_l > T_{l−1}): frame ⌊t·T_{l−1}/T_l⌋; compressing: the block
 *   [⌊t·T_{l−1}/T_l⌋, max(that + 1, ⌊(t+1)·T_{l−1}/T_l⌋)) summed;
 * - rate: every frame (their mean spike count);
 * - pad: frame t while t < T_{l−1}, then nothing (a zero frame).
 * So step (l, t) can start once the last of those frames (`depHi`) is done — the hardware's dataflow,
 * never worse than strict layer-major. The home tiles of layer l−1 align at the source: they send, per
 * distinct input frame of layer l, one packet carrying that recorded frame (the replay's payload rule), as
 * soon as its last source frame is done. A frame equal to the one before (repeat expanding, rate) is
 * not sent again: the destination still holds it. A zero frame (pad) needs no packet.
 *
 * Schedules, generalised from uniform T (where they reduce to the timestep-major rules):
 * - layer-sequential: one step at a time, in demand order — output timestep τ's wave is every step it
 *   needs that has not run yet (its dependency closure), layer by layer, each layer's frames in order
 *   (layer-major within a wave), then the exit step τ; steps no output needs (frames `pad` drops) run in
 *   the last wave. A step starts only when the one before it in this order is done (layer 0: its frame
 *   leaves the global buffer then). Uniform T: wave τ = timestep τ, the order the replay always used;
 *   a single output timestep: strict layer-major.
 * - timestep-pipelined: every step starts as soon as its input arrived and its tiles' stage A is free,
 *   with one limit (double-buffered outputs): layer l starts frame t only once layer l+1 has started the
 *   first frame made from frame t−1 — unless that frame also needs frame t (a summed block, a rate mean),
 *   then layer l must produce frame t first. Layer 0 fetches its next frame once it finished the last.
 *   Uniform T: "layer l at most one timestep ahead of layer l+1".
 *
 * Items (steps and exit steps) are numbered l·T2 + t (steps) and L·T2 + τ (exit step of output
 * timestep τ).
 */
import { located } from '../config/errors.js';
import type { Workload } from '../chip/workload.js';
import type { TraceHeader, TraceSample } from '../trace/types.js';

export type Alignment = 'repeat' | 'rate' | 'pad';
const ALIGNMENTS: readonly Alignment[] = ['repeat', 'rate', 'pad'];

/**
 * The frames of the previous layer (which ran tIn timesteps) that input frame t of a layer running
 * tOut timesteps is made of: [lo, hi], or hi < 0 when none (a zero frame). Mirrors `alignFrames`.
 */
export function alignedSources(tIn: number, tOut: number, alignment: Alignment, t: number): [number, number] {
  if (tIn === tOut) return [t, t];
  if (alignment === 'rate') return [0, tIn - 1];
  if (alignment === 'pad') return t < tIn ? [t, t] : [-1, -1];
  const a = Math.floor((t * tIn) / tOut);
  if (tOut > tIn) return [a, a];
  const b = Math.max(a + 1, Math.floor(((t + 1) * tIn) / tOut));
  return [a, b - 1];
}

export class StepGraph {
  readonly L: number;
  /** Timesteps of each layer (header). */
  readonly T: Int32Array;
  /** Stride of (layer, timestep) keys: the longest T + 2 (room for pipelined run-ahead). */
  readonly T2: number;
  /** Per-layer timesteps differ (or the layerwise policy): every recorded frame runs, the exit is static. */
  readonly layerwise: boolean;
  readonly alignment: Alignment;
  /** [l·T2 + t]: first and last frame of layer l−1 that frame t is made of (hi < 0: none; layer 0: −1). */
  readonly depLo: Int32Array;
  readonly depHi: Int32Array;
  /** [l·T2 + t]: 1 when the frame arrives as a packet (layer 0: from the global buffer). */
  readonly sends: Uint8Array;
  /** Consumers (CSR over l·T2 + s): the frames of layer l+1 sent when layer l finished frame s. */
  readonly consStart: Int32Array;
  readonly cons: Int32Array;
  /** Pipelined limit: [l·T2 + t] = frame of layer l+1 that must have started everywhere first, or −1. */
  readonly gate: Int32Array;
  /** Layer-sequential order (items), each item's predecessor and successor in it (−1: none). */
  readonly seqOrder: Int32Array;
  readonly seqPred: Int32Array;
  readonly seqNext: Int32Array;
  /**
   * [item]: 1 when a step's layer-sequential predecessor is not already implied by its input packets
   * (the predecessor is the producer of its frame), so the replay must hold the step until it is done.
   */
  readonly seqExplicit: Uint8Array;
  /** A topological order of every step and exit step under timestep-pipelining. */
  readonly pipeOrder: Int32Array;

  /** The trace file, when known, for located errors. */
  readonly source: string | undefined;

  constructor(w: Workload, header: TraceHeader, source?: string) {
    const L = w.mapping.layers.length;
    this.L = L;
    this.source = source;
    const file = source;
    const T = new Int32Array(L);
    header.layers.forEach((hl, l) => {
      if (!Number.isInteger(hl.timesteps) || hl.timesteps < 1 || hl.timesteps > 0xffff)
        throw located('a layer of the trace runs no valid number of timesteps', {
          file,
          path: `layers[${l}].timesteps`,
          expected: 'an integer in 1..65535',
          found: String(hl.timesteps),
        });
      T[l] = hl.timesteps;
    });
    this.T = T;
    const maxT = Math.max(...T);
    this.T2 = maxT + 2;
    const T2 = this.T2;
    const policy = header.policy;
    const uniform = T.every((x) => x === T[0]);
    if (!uniform && policy.name !== 'layerwise')
      throw located('per-layer timesteps are replayed under the layerwise policy only', {
        file,
        path: 'policy.name',
        expected: '"layerwise" (layers run ' + Array.from(T).join(', ') + ' timesteps)',
        found: JSON.stringify(policy.name),
      });
    const alignment = (policy.alignment ?? 'repeat') as Alignment;
    if (!ALIGNMENTS.includes(alignment))
      throw located('unknown frame alignment', {
        file,
        path: 'policy.alignment',
        expected: ALIGNMENTS.join(' | '),
        found: JSON.stringify(policy.alignment),
      });
    if (policy.name === 'layerwise' && policy.layer_timesteps !== undefined) {
      const lt = policy.layer_timesteps;
      if (!Array.isArray(lt) || lt.length !== L || lt.some((x, l) => x !== T[l]))
        throw located("the layerwise policy's timesteps disagree with the trace's layers", {
          file,
          path: 'policy.layer_timesteps',
          expected: `[${Array.from(T).join(', ')}] (layers[].timesteps)`,
          found: JSON.stringify(lt),
        });
    }
    this.layerwise = policy.name === 'layerwise';
    this.alignment = alignment;

    // --- dependencies of each frame on the previous layer's frames ---
    const n = (L + 1) * T2;
    this.depLo = new Int32Array(n).fill(-1);
    this.depHi = new Int32Array(n).fill(-1);
    this.sends = new Uint8Array(n);
    for (let l = 0; l < L; l++)
      for (let t = 0; t < T[l]; t++) {
        const key = l * T2 + t;
        if (l === 0) {
          this.sends[key] = 1;
          continue;
        }
        const [lo, hi] = alignedSources(T[l - 1], T[l], alignment, t);
        this.depLo[key] = lo;
        this.depHi[key] = hi;
        // Sent unless empty, or the same frame as the one before (the destination still holds it).
        const same = t > 0 && this.depLo[key - 1] === lo && this.depHi[key - 1] === hi;
        this.sends[key] = hi >= 0 && !same ? 1 : 0;
      }
    // Consumers of (l, s): frames of l+1 sent when s is done (their last source is s).
    this.consStart = new Int32Array(n + 1);
    const consList: number[] = [];
    for (let l = 0; l < L; l++)
      for (let s = 0; s < T2; s++) {
        this.consStart[l * T2 + s] = consList.length;
        if (l < L - 1 && s < T[l])
          for (let t = 0; t < T[l + 1]; t++) {
            const k = (l + 1) * T2 + t;
            if (this.sends[k] && this.depHi[k] === s) consList.push(t);
          }
      }
    for (let k = L * T2; k <= n; k++) this.consStart[k] = consList.length;
    this.cons = Int32Array.from(consList);

    // --- pipelined limit ---
    this.gate = new Int32Array(n).fill(-1);
    for (let l = 0; l < L - 1; l++)
      for (let t = 1; t < T[l]; t++) {
        const s = t - 1;
        for (let c = 0; c < T[l + 1]; c++) {
          const k = (l + 1) * T2 + c;
          if (this.depHi[k] >= 0 && this.depLo[k] <= s && s <= this.depHi[k]) {
            if (this.depHi[k] < t) this.gate[l * T2 + t] = c;
            break;
          }
        }
      }

    // --- layer-sequential: waves in demand order ---
    const last = T[L - 1] - 1;
    const wave = new Int32Array(n);
    for (let t = 0; t < T[L - 1]; t++) wave[(L - 1) * T2 + t] = t;
    for (let l = L - 2; l >= 0; l--)
      for (let s = T[l] - 1; s >= 0; s--) {
        let v = s + 1 < T[l] ? wave[l * T2 + s + 1] : Infinity;
        for (let t = 0; t < T[l + 1]; t++) {
          const k = (l + 1) * T2 + t;
          if (this.depHi[k] >= 0 && this.depLo[k] <= s && s <= this.depHi[k]) v = Math.min(v, wave[k]);
        }
        wave[l * T2 + s] = v === Infinity ? last : v;
      }
    const seq: number[] = [];
    for (let tau = 0; tau <= last; tau++) {
      for (let l = 0; l < L; l++)
        for (let s = 0; s < T[l]; s++) if (wave[l * T2 + s] === tau) seq.push(l * T2 + s);
      seq.push(L * T2 + tau);
    }
    this.seqOrder = Int32Array.from(seq);
    this.seqPred = new Int32Array(n).fill(-1);
    this.seqNext = new Int32Array(n).fill(-1);
    this.seqExplicit = new Uint8Array(n);
    for (let i = 0; i < seq.length; i++) {
      const item = seq[i];
      if (i > 0) this.seqPred[item] = seq[i - 1];
      if (i + 1 < seq.length) this.seqNext[item] = seq[i + 1];
      const l = Math.floor(item / T2);
      if (l === 0 || l === L || i === 0) continue;
      const pred = seq[i - 1];
      const implied = this.sends[item] === 1 && pred === (l - 1) * T2 + this.depHi[item];
      this.seqExplicit[item] = implied ? 0 : 1;
    }

    // --- pipelined: a topological order (data, own previous frame, the limit; exits after the output) ---
    const pipe: number[] = [];
    const next = new Int32Array(L);
    const isDone = (l: number, t: number) => next[l] > t;
    let remaining = T.reduce((a, b) => a + b, 0);
    while (remaining > 0) {
      let progress = false;
      for (let l = 0; l < L; l++)
        while (next[l] < T[l]) {
          const t = next[l];
          const key = l * T2 + t;
          if (l > 0 && this.depHi[key] >= 0 && !isDone(l - 1, this.depHi[key])) break;
          if (this.gate[key] >= 0 && !isDone(l + 1, this.gate[key])) break;
          pipe.push(key);
          if (l === L - 1) pipe.push(L * T2 + t);
          next[l]++;
          remaining--;
          progress = true;
        }
      if (!progress) throw new Error('replay: the pipelined step graph has a cycle (a bug)');
    }
    this.pipeOrder = Int32Array.from(pipe);
  }

  /**
   * Frames of layer l that a sample must run: every recorded frame under the layerwise policy; else the
   * exit's timesteps (later recorded frames are not needed and are cancelled with the sample).
   */
  required(l: number, s: TraceSample): number {
    return this.layerwise ? this.T[l] : s.exitTimestep;
  }

  /** Checks that a sample can be replayed: its frames and exit fit the header. Throws a located InputError. */
  checkSample(s: TraceSample): void {
    const L = this.L;
    const at = `samples[${s.index}]`;
    const file = this.source;
    if (s.inputs.length !== L)
      throw located('trace sample has the wrong number of layers', {
        file,
        path: `${at}.inputs`,
        expected: String(L),
        found: String(s.inputs.length),
      });
    const Tout = this.T[L - 1];
    if (!Number.isInteger(s.exitTimestep) || s.exitTimestep < 1 || s.exitTimestep > Tout)
      throw located("the sample's exit timestep is not one of the output layer's timesteps", {
        file,
        path: `${at}.exitTimestep`,
        expected: `1..${Tout}`,
        found: String(s.exitTimestep),
      });
    if (this.layerwise && s.exitTimestep !== Tout)
      throw located('the layerwise policy is static: a sample exits after the output layer’s last timestep', {
        file,
        path: `${at}.exitTimestep`,
        expected: String(Tout),
        found: String(s.exitTimestep),
      });
    for (let l = 0; l < L; l++) {
      const F = s.inputs[l].length;
      const need = this.required(l, s);
      if (F > this.T[l] || F < need)
        throw located(
          F > this.T[l]
            ? 'a layer of the sample has more frames than its timesteps'
            : 'a layer of the sample lacks frames its exit needs',
          {
            file,
            path: `${at}.inputs[${l}]`,
            expected: F > this.T[l] ? `≤ ${this.T[l]} frames` : `≥ ${need} frames`,
            found: `${F} frames`,
          },
        );
    }
  }
}
