/**
 * Shared memory between the trainer and its worker threads: the model's tensors live in one
 * SharedArrayBuffer so every thread reads the current parameters without copies, and each worker writes
 * its gradients into its own shared buffer, which the main thread adds up in a fixed order.
 */
import type { NetworkSpec } from '../../network/schema.js';
import { inferShapes } from '../../network/shapes.js';
import type { TensorMap } from '../io/safetensors.js';
import type { SnnModel } from '../model.js';

export interface TensorLayout {
  name: string;
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
  length: number;
}

/** Moves every tensor of the model into one SharedArrayBuffer (in place: tensors become views). */
export function shareModel(model: SnnModel): { sab: SharedArrayBuffer; layout: TensorLayout[] } {
  const layout: TensorLayout[] = [];
  let total = 0;
  for (const [name, t] of model.tensors) {
    layout.push({ name, shape: [...t.shape], offset: total, length: t.data.length });
    total += t.data.length;
  }
  const sab = new SharedArrayBuffer(Math.max(4, total * 4));
  for (const l of layout) {
    const view = new Float32Array(sab, l.offset * 4, l.length);
    const t = model.tensors.get(l.name)!;
    view.set(t.data);
    t.data = view;
  }
  return { sab, layout };
}

/** The model seen by a worker: the same tensors, as views of the shared buffer. */
export function sharedModel(spec: NetworkSpec, sab: SharedArrayBuffer, layout: TensorLayout[]): SnnModel {
  const tensors: TensorMap = new Map();
  for (const l of layout)
    tensors.set(l.name, { shape: l.shape, data: new Float32Array(sab, l.offset * 4, l.length) });
  return { spec, shapes: inferShapes(spec), tensors, metadata: {} };
}

/** Control block: [command seq, done seq, command, shard size, status]. */
export const CTRL = { seq: 0, done: 1, command: 2, batch: 3, status: 4, size: 8 } as const;
export const COMMAND = { step: 1, exit: 2 } as const;
/** Float64 block: [scale, timesteps, seed, loss (out), correct (out)]. */
export const F64 = { scale: 0, timesteps: 1, seed: 2, loss: 3, correct: 4, size: 8 } as const;

export interface WorkerInit {
  spec: NetworkSpec;
  layout: TensorLayout[];
  tensors: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  f64: SharedArrayBuffer;
  images: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  ids: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  net: {
    timesteps: number;
    surrogate: import('./surrogate.js').SurrogateName;
    trainNeuronParams?: boolean;
    encoding?: 'direct' | 'rate';
  };
  loss: import('./loss.js').LossName;
}
