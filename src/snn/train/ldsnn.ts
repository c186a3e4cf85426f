/**
 * LD-SNN per-layer timestep search (docs/SOURCES.md §1, search rule [our design]): start from uniform T;
 * repeatedly try lowering each layer's T_l by one, evaluate on the validation split with the Engine's
 * layerwise policy, and take the move with the best saving of synaptic updates per accuracy point lost
 * among those that keep the accuracy within the budget of the uniform model; stop when no move fits.
 * Synaptic updates and neurons evaluated are the Engine's counts (result.synops / neuronUpdates).
 */
import type { TracePolicy } from '../../trace/types.js';
import type { Dataset } from '../data/dataset.js';
import type { SnnModel } from '../model.js';
import { evaluateModel, type ChipRunOptions } from '../run.js';
import { layerwisePolicy } from '../policies/layerwise.js';

export interface LdsnnEval {
  layer_timesteps: number[];
  accuracy: number;
  synops: number;
  neuron_updates: number;
}

export interface LdsnnResult {
  uniform: LdsnnEval;
  best: LdsnnEval;
  /** Every accepted move in order (the first entry is the uniform start). */
  path: LdsnnEval[];
  evaluations: number;
  synops_reduction: number;
  neuron_reduction: number;
}

export function ldsnnEvaluate(
  model: SnnModel,
  ds: Dataset,
  lt: number[],
  alignment: 'repeat' | 'rate' | 'pad',
  samples?: number,
  chip?: ChipRunOptions,
): LdsnnEval {
  const policy: TracePolicy = {
    name: 'layerwise',
    timesteps: Math.max(...lt),
    layer_timesteps: lt,
    alignment,
  };
  const r = evaluateModel(model, ds, { policy, samples, chip });
  return {
    layer_timesteps: [...lt],
    accuracy: r.accuracy,
    synops: r.synops_per_sample,
    neuron_updates: r.neuron_updates_per_sample,
  };
}

export function ldsnnSearch(
  model: SnnModel,
  ds: Dataset,
  opts: {
    /** Accuracy budget in points (0.5 = half a percentage point). */
    budget: number;
    timesteps?: number;
    alignment?: 'repeat' | 'rate' | 'pad';
    samples?: number;
    /** Hardware-aware: every evaluation on this chip's arithmetic (LD-SNN's choices are the chip's). */
    chip?: ChipRunOptions;
    onStep?: (e: LdsnnEval, evaluations: number) => void;
  },
): LdsnnResult {
  const T = opts.timesteps ?? model.spec.timesteps;
  const L = model.shapes.mapped.length;
  const alignment = opts.alignment ?? layerwisePolicy.params.alignment!.default;
  const n = Math.min(ds.count, opts.samples ?? ds.count);
  const evalAt = (lt: number[]) => ldsnnEvaluate(model, ds, lt, alignment, opts.samples, opts.chip);
  const uniform = evalAt(new Array<number>(L).fill(T));
  let evaluations = 1;
  const path = [uniform];
  let cur = uniform;
  const floor = uniform.accuracy - opts.budget / 100 - 1e-12;
  for (;;) {
    let best: { e: LdsnnEval; score: number } | null = null;
    for (let l = 0; l < L; l++) {
      if (cur.layer_timesteps[l] <= 1) continue;
      const lt = [...cur.layer_timesteps];
      lt[l]--;
      const e = evalAt(lt);
      evaluations++;
      if (e.accuracy < floor) continue;
      const saving = cur.synops - e.synops;
      const lost = Math.max(cur.accuracy - e.accuracy, 0) + 1 / n; // one sample's worth keeps the ratio finite
      const score = saving / lost;
      if (!best || score > best.score) best = { e, score };
    }
    if (!best) break;
    cur = best.e;
    path.push(cur);
    opts.onStep?.(cur, evaluations);
  }
  return {
    uniform,
    best: cur,
    path,
    evaluations,
    synops_reduction: uniform.synops / Math.max(1e-9, cur.synops),
    neuron_reduction: uniform.neuron_updates / Math.max(1e-9, cur.neuron_updates),
  };
}
