// Spike-trace write and read throughput, in MB/s of trace file, on a synthetic MNIST-convnet trace
// (models/mnist-convnet, T=4, the input rates of test/fixtures/mnist-rates.yaml: a dense direct-encoded
// image into conv1, ~20 % active inputs elsewhere).
//
// TraceWriter and TraceReader are asynchronous and bench/run.js times synchronous functions, so each call
// hands the work to a worker thread (this same file) and blocks on Atomics.wait until it is done: the figures
// are end to end — encoding, CRCs, file I/O, and for writing the fsync and rename of close().
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const SAMPLES = 500;
const RATES = { default: 0.2, layers: { conv1: 1.0, conv2: [0.3, 0.25, 0.2, 0.2] } };

if (!isMainThread && workerData?.role === 'trace-bench') {
  const { loadNetwork } = await import('../dist/network/load.js');
  const { generateSyntheticTrace } = await import('../dist/trace/synthetic.js');
  const { TraceReader, TraceWriter } = await import('../dist/trace/format.js');
  const dir = workerData.dir;
  const source = join(dir, 'source.imct');
  let header;
  let samples = [];
  const ops = {
    async prepare() {
      const net = loadNetwork('models/mnist-convnet');
      await generateSyntheticTrace({
        network: net.spec,
        shapes: net.shapes,
        rates: RATES,
        samples: SAMPLES,
        seed: 1,
        timesteps: 4,
        out: source,
      });
      const r = await TraceReader.open(source);
      header = r.header;
      for await (const s of r) samples.push(s);
      await r.close();
      return statSync(source).size;
    },
    async write() {
      const w = await TraceWriter.open(join(dir, 'written.imct'), header);
      for (const s of samples) await w.write(s);
      await w.close();
    },
    async read() {
      const r = await TraceReader.open(source);
      let n = 0;
      for await (const s of r) n += s.inputs.length;
      await r.close();
      if (n !== SAMPLES * header.layers.length) throw new Error(`read ${n} frames lists`);
    },
  };
  parentPort.on('message', async ({ op, signal }) => {
    try {
      signal[1] = (await ops[op]()) ?? 0;
      Atomics.store(signal, 0, 1);
    } catch (e) {
      console.error(e);
      Atomics.store(signal, 0, 2);
    }
    Atomics.notify(signal, 0);
  });
}

let worker = null;
let dir = null;

/** Runs op in the worker, blocking this thread until it is done; returns the op's (integer) result. */
function call(op) {
  const signal = new Int32Array(new SharedArrayBuffer(8));
  worker.postMessage({ op, signal });
  Atomics.wait(signal, 0, 0);
  if (signal[0] !== 1) throw new Error(`trace bench: ${op} failed in the worker`);
  return signal[1];
}

/** File bytes per call, in MB (10⁶ bytes): run.js multiplies calls/s by opsPerCall. */
let fileMB = 0;
function setup() {
  if (worker === null) {
    dir = mkdtempSync(join(tmpdir(), 'imcsim-trace-bench-'));
    worker = new Worker(new URL(import.meta.url), { workerData: { role: 'trace-bench', dir } });
    worker.unref();
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    fileMB = call('prepare') / 1e6;
  }
  this.opsPerCall = fileMB;
}

export const benchmarks = isMainThread
  ? [
      {
        name: `trace write, MNIST convnet T=4, ${SAMPLES} samples per file (incl. fsync)`,
        unit: 'MB/s',
        maxTime: 5,
        setup,
        fn: () => call('write'),
      },
      {
        name: `trace read, MNIST convnet T=4, ${SAMPLES} samples per file`,
        unit: 'MB/s',
        maxTime: 5,
        setup,
        fn: () => call('read'),
      },
    ]
  : [];
