/**
 * IIR-SNN helpers (docs/SOURCES.md §1): switching a topology to the iir neuron convention (soft reset,
 * per-layer trainable leak and threshold) and initialising each layer's threshold at the 90th
 * percentile of its input current on a training batch.
 */
import type { NetworkSpec, NeuronSpec } from '../../network/schema.js';
import type { SnnModel } from '../model.js';
import type { TrainNet } from './net.js';

/** The iir convention everywhere: soft reset; the leak starts at `leak` (IIR-SNN starts non-leaky). */
export function toIirSpec(spec: NetworkSpec): NetworkSpec {
  const conv = (n: NeuronSpec): NeuronSpec => ({ ...n, convention: 'iir', reset: 'soft' });
  return {
    ...spec,
    neuron: conv(spec.neuron),
    layers: spec.layers.map((l) =>
      (l.type === 'conv2d' || l.type === 'linear') && l.neuron ? { ...l, neuron: conv(l.neuron) } : l,
    ),
  };
}

/** Sets every spiking layer's leak tensor to `leak` (creating it). */
export function setLeaks(model: SnnModel, net: TrainNet, leak: number): void {
  for (const w of net.weighted) {
    if (!w.neuron) continue;
    const t = model.tensors.get(`${w.name}.leak`);
    if (t) t.data[0] = leak;
    else model.tensors.set(`${w.name}.leak`, { shape: [1], data: Float32Array.of(leak) });
  }
}

/** q-quantile of values (linear interpolation between order statistics). */
export function quantile(values: Float32Array, q: number): number {
  const s = Float32Array.from(values).sort();
  if (s.length === 0) return NaN;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Layer by layer, sets θ_l to the q-quantile (default 0.9) of the layer's input current over a training
 * batch (all neurons, samples and timesteps), with the thresholds already set for earlier layers.
 * Returns the thresholds. A non-positive quantile falls back to the largest current (or 1).
 */
export function calibrateThresholds(net: TrainNet, images: Float32Array, batch: number, q = 0.9): number[] {
  const out: number[] = [];
  const ids = Array.from({ length: batch }, (_, i) => i);
  const ctx = { batch, timesteps: net.timesteps, train: true, seed: 0, ids };
  for (const w of net.weighted) {
    if (!w.neuron) continue;
    const current = net.forward(images, ctx, w.currentOp + 1);
    let theta = quantile(current, q);
    if (!(theta > 0)) {
      let max = 0;
      for (let i = 0; i < current.length; i++) max = Math.max(max, current[i]);
      theta = max > 0 ? max : 1;
    }
    const thr = w.neuron.setup.threshold;
    const t = net.model.tensors.get(`${w.name}.threshold`);
    if (typeof thr !== 'number') thr.data[0] = theta;
    else if (t) t.data[0] = theta;
    else throw new Error(`layer ${w.name} has no threshold tensor to calibrate`);
    out.push(Math.fround(theta));
  }
  return out;
}

/**
 * Data-dependent initialisation for a freshly initialised model ([our design]): layer by layer, scales
 * each spiking layer's weights (and bias) so that the q-quantile of its input current on a training
 * batch equals the layer's threshold — about 1 − q of the neurons fire at the first timestep, so every
 * layer starts active and surrogate gradients reach the first layers.
 */
export function calibrateWeights(net: TrainNet, images: Float32Array, batch: number, q = 0.9): number[] {
  const out: number[] = [];
  const ids = Array.from({ length: batch }, (_, i) => i);
  const ctx = { batch, timesteps: net.timesteps, train: true, seed: 0, ids };
  for (const w of net.weighted) {
    if (!w.neuron) continue;
    const current = net.forward(images, ctx, w.currentOp + 1);
    const cur = quantile(current, q);
    const theta = w.neuron.thresholdValue();
    if (!(cur > 0)) {
      out.push(1);
      continue;
    }
    const scale = theta / cur;
    for (const p of w.conv.params) for (let i = 0; i < p.data.length; i++) p.data[i] *= scale;
    out.push(scale);
  }
  return out;
}
