/**
 * A training worker thread: computes the gradient of its shard of every batch on the shared parameters
 * and reports through shared memory (Atomics), so the main thread can wait synchronously.
 */
import { workerData } from 'node:worker_threads';
import { computeLoss } from './loss.js';
import { TrainNet } from './net.js';
import { COMMAND, CTRL, F64, sharedModel, type WorkerInit } from './shared.js';

const init = workerData as WorkerInit;
const ctrl = new Int32Array(init.ctrl);
const f64 = new Float64Array(init.f64);
const model = sharedModel(init.spec, init.tensors, init.layout);
const net = new TrainNet(model, init.net);
// Gradients go straight into the shared gradient buffer, in parameter order.
let off = 0;
for (const p of net.params) {
  p.grad = new Float32Array(init.grads, off * 4, p.data.length);
  off += p.data.length;
}
const stats = new Float64Array(init.stats);
const images = new Float32Array(init.images);
const labels = new Int32Array(init.labels);
const ids = new Int32Array(init.ids);
const K = net.classes;
let dOut = new Float32Array(0);
let last = 0;
for (;;) {
  Atomics.wait(ctrl, CTRL.seq, last);
  const seq = Atomics.load(ctrl, CTRL.seq);
  last = seq;
  if (Atomics.load(ctrl, CTRL.command) === COMMAND.exit) break;
  try {
    const B = Atomics.load(ctrl, CTRL.batch);
    const T = f64[F64.timesteps];
    net.zeroGrad();
    const ctx = { batch: B, timesteps: T, train: true, seed: f64[F64.seed], ids: ids.subarray(0, B) };
    const out = net.forward(images.subarray(0, B * net.inputSize), ctx);
    if (dOut.length < T * B * K) dOut = new Float32Array(T * B * K);
    const r = computeLoss(init.loss, out, T, B, K, labels.subarray(0, B), f64[F64.scale], dOut);
    net.backward(dOut.subarray(0, T * B * K));
    net.readStats(stats);
    f64[F64.loss] = r.loss;
    f64[F64.correct] = r.correct;
    Atomics.store(ctrl, CTRL.status, 0);
  } catch (e) {
    console.error(e);
    Atomics.store(ctrl, CTRL.status, 1);
  }
  Atomics.store(ctrl, CTRL.done, seq);
  Atomics.notify(ctrl, CTRL.done);
}
