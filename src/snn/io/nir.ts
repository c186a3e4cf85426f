/**
 * NIR (Neuromorphic Intermediate Representation, public repository neuromorphs/NIR; docs/SOURCES.md §3):
 * import a NIR graph (HDF5) as an SnnModel, and export an SnnModel as a NIR graph.
 *
 * Layout read and written: `/version`; `/node/type = "NIRGraph"`; `/node/edges` [E, 2] strings (src, dst);
 * `/node/nodes/<name>/type` plus one dataset per parameter; optional `metadata` groups (NIR ≥ 1.0 keeps
 * free-form metadata there).
 *
 * Our topology format is a chain, so the graph must be one path Input → … → Output: a node with two
 * incoming or two outgoing edges, a nested NIRGraph, a cycle or a node off the path is an error naming
 * the node. Supported nodes: Input, Output, Affine, Linear, Conv2d, SumPool2d, AvgPool2d, Flatten, IF,
 * LIF, LI. A Conv2d/Affine/Linear followed by IF/LIF becomes one spiking layer; followed by LI or directly
 * by Output it becomes the non-spiking output accumulator.
 *
 * Neurons. NIR is continuous time: LIF `τ·dv/dt = (v_leak − v) + r·I`, IF `dv/dt = r·I`, spike on
 * `v > v_threshold`, reset to v_reset (0 when the file has none, as in NIR ≤ 0.2). Parameters are
 * per-neuron arrays; we support per-layer scalars, so non-uniform arrays are an error. A LIF is
 * discretised with an explicit step dt (default 1e-4 s, the step snnTorch's and SpikingJelly's exporters
 * assume, docs/SOURCES.md §3) by forward Euler, `v ← v + (dt/τ)·((v_leak − v) + r·I)`, written in the
 * order of the chosen convention (NeuronSchema in src/network/schema.ts; each mapping lives in the
 * convention's module, src/snn/neurons/<convention>.ts):
 *   norse:         tau = τ, dt, v_leak, v_reset, threshold; input gain r.
 *   snntorch:      leak β = 1 − dt/τ; hard reset to v_reset in the same step (reset_delay false);
 *                  input gain r·dt/τ (1 for snnTorch's own exports, which write r = τ/dt); v_leak must be 0.
 *   dtsnn:         as snntorch, convention dtsnn (u = β·u + x; s = u > θ; hard reset to v_reset).
 *   iir:           as snntorch, convention iir — whose reset is soft (subtract θ): NIR's reset is not kept.
 *   spikingjelly:  tau = τ/dt steps; input gain r; v_leak must equal v_reset (LIFNode decays towards
 *                  v_reset); SpikingJelly fires on ≥ where NIR fires on >.
 * An IF becomes model 'if' (no leak), input gain r. Under norse and spikingjelly, whose updates always
 * leak, an IF uses the dtsnn update (u = u + x; s = u > θ; hard reset to v_reset), which is exactly NIR's
 * IF; under snntorch / dtsnn / iir it keeps that convention.
 * An input gain ≠ 1 is folded into the layer's weights and bias (w·g, rounded to float32).
 * An LI becomes the non-spiking accumulator (which sums W·s_t + b over timesteps): its leak and gain are
 * not modelled and are kept in the model's metadata (`nir.<layer>.li`).
 *
 * Export writes the inverse mapping with unit input gain (snnTorch-style r = τ/dt for the β conventions)
 * plus `metadata` groups holding our exact values (imcsim_neuron, imcsim_network, …). The importer uses
 * those only when they agree with the NIR parameters of the file (so a graph edited by another tool is
 * read from its NIR parameters), which makes export → import reproduce the topology exactly.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { h5, h5Loaded, looksLikeHdf5, withQuietHdf5, type H5Lib } from '../../util/hdf5.js';
import { prepareOutputFile } from '../../util/fs-errors.js';
import type { Dataset, Group } from 'h5wasm/node';
import { located } from '../../util/errors.js';
import {
  NetworkSchema,
  NeuronSchema,
  type InputEncoding,
  type NetworkSpec,
  type NeuronSpec,
} from '../../network/schema.js';
import { inferShapes } from '../../network/shapes.js';
import { checkTensors, type SnnModel } from '../model.js';
import { NEURON_CONVENTION_NAMES, neuronConvention } from '../neurons/registry.js';
import type { ConventionName, NirNeuronParams } from '../neurons/types.js';
import type { NamedTensor, TensorMap } from './safetensors.js';

export type NirConvention = ConventionName;

export interface NirImportOptions {
  /** Integration step (s) used to discretise LIF/LI nodes. Default: the exporter's (metadata) or 1e-4. */
  dt?: number;
  /** Update rule the imported neurons follow. Default: the exporter's (metadata) or 'norse'. */
  convention?: NirConvention;
  /** Model name. Default: the exporter's (metadata) or the file's base name. */
  name?: string;
  /** Timesteps the model runs. Default: the exporter's (metadata) or the network schema's 4. */
  timesteps?: number;
  /** How the input reaches the first layer. Default: the exporter's (metadata) or 'direct'. */
  encoding?: InputEncoding;
}

/** Where an imported model's timesteps and input encoding came from (kept in its metadata). */
export type ImportChoice = 'option' | 'imcsim metadata' | 'default';

export interface NirExportOptions {
  /** Step (s) used to turn per-step leaks into NIR time constants (β conventions). Default 1e-4. */
  dt?: number;
}

/** snnTorch's and SpikingJelly's exporters assume this step (docs/SOURCES.md §3). */
export const NIR_DEFAULT_DT = 1e-4;
/** Forward Euler of NIR's equation with v_leak and v_reset as written: Norse's LIFBox update. */
export const NIR_DEFAULT_CONVENTION: NirConvention = 'norse';
const NIR_VERSION = '1.0.0';

const SUPPORTED = [
  'Input',
  'Output',
  'Affine',
  'Linear',
  'Conv2d',
  'SumPool2d',
  'AvgPool2d',
  'Flatten',
  'IF',
  'LIF',
  'LI',
  'Threshold',
  'CubaLIF',
  'CubaLI',
  'I',
  'Scale',
  'Delay',
] as const;
/** Nodes that make the weighted node before them a spiking layer. */
const SPIKING_NODES = ['IF', 'LIF', 'Threshold', 'CubaLIF'];
/** Nodes that make the weighted node before them the non-spiking output accumulator. */
const ACCUMULATOR_NODES = ['LI', 'CubaLI', 'I'];
/** v_threshold when a file has none (NIR 1.0.x exporters that leave it out mean the unit threshold). */
export const NIR_DEFAULT_V_THRESHOLD = 1;
const CONVENTIONS: readonly NirConvention[] = NEURON_CONVENTION_NAMES;

// ---------------------------------------------------------------------------------------------------
// Reading the HDF5 file into plain values

interface Param {
  shape: number[];
  /** Numeric values (int64 converted to number), row-major; null for strings. */
  num: Float64Array | null;
  /** The raw float32 values when the dataset is float32 (weights keep their exact bits). */
  f32: Float32Array | null;
  /** String values, for string datasets. */
  str: string[] | null;
}

interface RawNode {
  name: string;
  type: string;
  params: Map<string, Param>;
  /** Sub-groups other than metadata (input_type / output_type in NIR ≥ 1.0). */
  groups: Map<string, Map<string, Param>>;
  meta: Map<string, string>;
}

interface RawGraph {
  version: string | null;
  edges: [string, string][];
  nodes: Map<string, RawNode>;
  meta: Map<string, string>;
}

function readParam(ds: Dataset): Param {
  const shape = ds.shape ?? [];
  const v = ds.value;
  if (typeof v === 'string') return { shape, num: null, f32: null, str: [v] };
  if (Array.isArray(v) && v.every((x) => typeof x === 'string'))
    return { shape, num: null, f32: null, str: v as string[] };
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean')
    return { shape, num: Float64Array.of(Number(v)), f32: null, str: null };
  if (ArrayBuffer.isView(v)) {
    const arr = v as unknown as ArrayLike<number | bigint>;
    const num = new Float64Array(arr.length);
    for (let i = 0; i < arr.length; i++) num[i] = Number(arr[i]);
    return { shape, num, f32: v instanceof Float32Array ? v : null, str: null };
  }
  if (Array.isArray(v)) {
    const flat = (v as unknown[]).flat(Infinity) as unknown[];
    if (flat.every((x) => typeof x === 'string'))
      return { shape, num: null, f32: null, str: flat as string[] };
    return { shape, num: Float64Array.from(flat.map((x) => Number(x))), f32: null, str: null };
  }
  return { shape, num: null, f32: null, str: null };
}

function isGroup(e: unknown): e is Group {
  return e instanceof h5Loaded().Group;
}
function isDataset(e: unknown): e is Dataset {
  return e instanceof h5Loaded().Dataset;
}

function readStringMap(g: Group): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of g.keys()) {
    const e = g.get(k);
    if (isDataset(e)) {
      const p = readParam(e);
      if (p.str) out.set(k, p.str.join(''));
      else if (p.num) out.set(k, p.num.length === 1 ? String(p.num[0]) : JSON.stringify([...p.num]));
    }
  }
  return out;
}

async function readGraph(file: string): Promise<RawGraph> {
  if (!existsSync(file)) throw located('NIR file not found', { file });
  if (!looksLikeHdf5(file))
    throw located('not a NIR file (no HDF5 signature)', {
      file,
      expected: 'an HDF5 file written by a NIR exporter',
    });
  const lib = await h5();
  return withQuietHdf5(file, 'NIR file', 'an intact HDF5 file written by a NIR exporter', () =>
    readGraphFrom(lib, file),
  );
}

function readGraphFrom(lib: H5Lib, file: string): RawGraph {
  const f = new lib.File(file, 'r');
  try {
    const versionDs = f.get('version');
    const version = isDataset(versionDs) ? (readParam(versionDs).str?.join('') ?? null) : null;
    const root = f.get('node');
    if (!isGroup(root)) throw located('not a NIR file: there is no /node group', { file, path: '/node' });
    const typeDs = root.get('type');
    const rootType = isDataset(typeDs) ? readParam(typeDs).str?.join('') : undefined;
    if (rootType !== 'NIRGraph')
      throw located('the top node of a NIR file must be a NIRGraph', {
        file,
        path: '/node/type',
        expected: 'NIRGraph',
        found: rootType ?? '(none)',
      });
    const nodesGroup = root.get('nodes');
    if (!isGroup(nodesGroup))
      throw located('the NIR graph has no nodes group', { file, path: '/node/nodes' });
    const edgesDs = root.get('edges');
    if (!isDataset(edgesDs))
      throw located('the NIR graph has no edges dataset', { file, path: '/node/edges' });
    const ep = readParam(edgesDs);
    const flat = ep.str ?? [];
    if (!ep.str && ep.num && ep.num.length > 0)
      throw located('NIR edges must be strings (source, destination)', {
        file,
        path: '/node/edges',
        expected: 'an [E, 2] string dataset',
        found: 'numbers',
      });
    if (flat.length % 2 !== 0)
      throw located('NIR edges must be pairs', {
        file,
        path: '/node/edges',
        expected: '[E, 2]',
        found: `[${ep.shape.join(', ')}]`,
      });
    const edges: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) edges.push([flat[i], flat[i + 1]]);
    const nodes = new Map<string, RawNode>();
    for (const name of nodesGroup.keys()) {
      const g = nodesGroup.get(name);
      if (!isGroup(g)) continue;
      const params = new Map<string, Param>();
      const groups = new Map<string, Map<string, Param>>();
      let meta = new Map<string, string>();
      for (const k of g.keys()) {
        const e = g.get(k);
        if (isDataset(e)) params.set(k, readParam(e));
        else if (isGroup(e)) {
          if (k === 'metadata') meta = readStringMap(e);
          else {
            const sub = new Map<string, Param>();
            for (const kk of e.keys()) {
              const ee = e.get(kk);
              if (isDataset(ee)) sub.set(kk, readParam(ee));
            }
            groups.set(k, sub);
          }
        }
      }
      const type = params.get('type')?.str?.join('') ?? '';
      params.delete('type');
      const node = { name, type, params, groups, meta };
      refuseNonFinite(node, file);
      nodes.set(name, node);
    }
    const metaGroup = root.get('metadata');
    const meta = isGroup(metaGroup) ? readStringMap(metaGroup) : new Map<string, string>();
    return { version, edges, nodes, meta };
  } finally {
    f.close();
  }
}

/**
 * NaN or ±Inf in any numeric parameter of a node (weights, biases, time constants, thresholds, shapes)
 * would run as silently wrong numbers: refused here, naming the node and the field.
 */
function refuseNonFinite(node: RawNode, file: string): void {
  const check = (p: Param, field: string): void => {
    const v = p.num;
    if (!v) return;
    for (let i = 0; i < v.length; i++)
      if (!Number.isFinite(v[i]))
        throw located(
          `NIR node "${node.name}" (${node.type || 'no type'}): ${field} holds a non-finite value`,
          {
            file,
            path: `/node/nodes/${node.name}/${field}${v.length > 1 ? `[${i}]` : ''}`,
            expected: 'finite numbers',
            found: String(v[i]),
          },
        );
  };
  for (const [k, p] of node.params) check(p, k);
  for (const [g, sub] of node.groups) for (const [k, p] of sub) check(p, `${g}/${k}`);
}

// ---------------------------------------------------------------------------------------------------
// Import

const nodePath = (n: string, p?: string) => `/node/nodes/${n}${p ? `/${p}` : ''}`;
const fmtShape = (s: readonly number[]) => `[${s.join(', ')}]`;
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Turns a NIR node name into a layer name: [A-Za-z0-9_-], starting with a letter or underscore. */
export function sanitizeLayerName(name: string, type: string): string {
  let s = name.replace(/[^A-Za-z0-9_-]/g, '_');
  if (!/^[A-Za-z_]/.test(s)) s = `${type.toLowerCase()}_${s}`;
  return s;
}

function relClose(a: number, b: number, tol = 1e-5): boolean {
  return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;
}

class Importer {
  constructor(
    readonly file: string,
    readonly g: RawGraph,
    readonly opts: NirImportOptions,
  ) {}

  fail(node: RawNode, msg: string, param?: string, expected?: string, found?: string): never {
    throw located(`NIR node "${node.name}" (${node.type}): ${msg}`, {
      file: this.file,
      path: nodePath(node.name, param),
      expected,
      found,
    });
  }

  param(node: RawNode, key: string): Param {
    const p = node.params.get(key);
    if (!p) this.fail(node, `missing parameter ${key}`, key, `a dataset ${key}`, 'none');
    return p;
  }

  numeric(node: RawNode, key: string): Float64Array {
    const p = this.param(node, key);
    if (!p.num || p.num.length === 0)
      this.fail(node, `parameter ${key} must be numeric`, key, 'numbers', 'text or empty');
    return p.num;
  }

  /** An int or int pair (stride, padding, kernel_size, dilation). */
  pair(node: RawNode, key: string, dflt?: [number, number]): [number, number] {
    const p = node.params.get(key);
    if (!p && dflt) return dflt;
    const v = this.numeric(node, key);
    if (v.length === 1) return [v[0], v[0]];
    if (v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 0))
      this.fail(node, `parameter ${key} must be an int or two ints`, key, 'int[2]', `[${[...v].join(', ')}]`);
    return [v[0], v[1]];
  }

  /** One value for the whole layer: the per-neuron array must be uniform and of the neuron shape (or 1). */
  scalar(node: RawNode, key: string, neurons: number, dflt?: number): number {
    if (!node.params.has(key) && dflt !== undefined) return dflt;
    const v = this.numeric(node, key);
    if (v.length !== 1 && v.length !== neurons)
      this.fail(
        node,
        `parameter ${key} does not match the layer size`,
        key,
        `${neurons} values (or 1)`,
        `${v.length}`,
      );
    const first = v[0];
    for (let i = 1; i < v.length; i++)
      if (v[i] !== first && !(Number.isNaN(v[i]) && Number.isNaN(first)))
        this.fail(
          node,
          `parameter ${key} is not uniform across the layer (per-neuron values are not supported: imcsim neurons take one value per layer)`,
          key,
          'the same value for every neuron',
          `${first} at index 0 and ${v[i]} at index ${i}`,
        );
    if (!Number.isFinite(first))
      this.fail(node, `parameter ${key} must be finite`, key, 'a finite number', String(first));
    return first;
  }

  /** Input/Output shape: `shape` (NIR ≤ 0.x), or `input_type` / `output_type` (a dataset or a group). */
  shapeOf(node: RawNode, alt: 'input_type' | 'output_type'): number[] {
    const sub = node.groups.get(alt);
    const p = node.params.get('shape') ?? node.params.get(alt) ?? (sub ? [...sub.values()][0] : undefined);
    if (!p || !p.num) this.fail(node, 'missing parameter shape', 'shape', 'an int array', 'none');
    const s = [...p.num];
    if (s.length === 0 || !s.every((x) => Number.isInteger(x) && x >= 1))
      this.fail(node, 'shape must be positive ints', 'shape', 'positive ints', fmtShape(s));
    return s;
  }

  weight(node: RawNode, key: string, rank: number): NamedTensor {
    const p = this.param(node, key);
    if (!p.num) this.fail(node, `parameter ${key} must be numeric`, key, 'floats', 'text');
    if (p.shape.length !== rank)
      this.fail(node, `parameter ${key} has the wrong rank`, key, `${rank} dimensions`, fmtShape(p.shape));
    const data = p.f32 ? Float32Array.from(p.f32) : Float32Array.from(p.num);
    return { shape: [...p.shape], data };
  }

  run(): SnnModel {
    const { g, file } = this;
    // 1. Every node must be a supported type (the first offending node is named).
    for (const n of g.nodes.values()) {
      if (n.type === 'NIRGraph')
        this.fail(n, 'nested NIR graphs are not supported (imcsim networks are a single chain of layers)');
      if (!(SUPPORTED as readonly string[]).includes(n.type))
        this.fail(
          n,
          `node type ${n.type || '(none)'} is not supported`,
          'type',
          SUPPORTED.join(', '),
          n.type || '(none)',
        );
    }
    // 2. The graph must be one chain Input → … → Output.
    const inputs = [...g.nodes.values()].filter((n) => n.type === 'Input');
    const outputs = [...g.nodes.values()].filter((n) => n.type === 'Output');
    if (inputs.length !== 1)
      throw located('a NIR graph must have exactly one Input node', {
        file,
        path: '/node/nodes',
        expected: '1 Input node',
        found: inputs.length ? inputs.map((n) => n.name).join(', ') : 'none',
      });
    if (outputs.length !== 1)
      throw located('a NIR graph must have exactly one Output node', {
        file,
        path: '/node/nodes',
        expected: '1 Output node',
        found: outputs.length ? outputs.map((n) => n.name).join(', ') : 'none',
      });
    const next = new Map<string, string[]>();
    const prev = new Map<string, string[]>();
    for (const [a, b] of g.edges) {
      for (const end of [a, b])
        if (!g.nodes.has(end))
          throw located(`NIR edge ${a} → ${b} names a node that does not exist: "${end}"`, {
            file,
            path: '/node/edges',
            expected: 'names of nodes in /node/nodes',
            found: end,
          });
      next.set(a, [...(next.get(a) ?? []), b]);
      prev.set(b, [...(prev.get(b) ?? []), a]);
    }
    // A back edge (to a node on the current path from Input) is a recurrent connection: named as such.
    {
      const state = new Map<string, 1 | 2>();
      const visit = (name: string): void => {
        state.set(name, 1);
        for (const nx of next.get(name) ?? []) {
          if (state.get(nx) === 1)
            this.fail(
              g.nodes.get(nx)!,
              `receives the recurrent edge ${name} → ${nx}: recurrent connections (RLeaky, RSynaptic, recurrent CubaLIF) are not supported; imcsim networks are feed-forward chains`,
              undefined,
              'a feed-forward graph',
              `edge ${name} → ${nx}`,
            );
          if (!state.has(nx)) visit(nx);
        }
        state.set(name, 2);
      };
      for (const n of inputs) visit(n.name);
    }
    for (const n of g.nodes.values()) {
      const ins = prev.get(n.name) ?? [];
      const outs = next.get(n.name) ?? [];
      if (ins.length > 1)
        this.fail(
          n,
          'has several incoming edges (NIR sums them; imcsim networks are a single chain)',
          undefined,
          'one incoming edge',
          ins.join(', '),
        );
      if (outs.length > 1)
        this.fail(
          n,
          'has several outgoing edges (a branching graph; imcsim networks are a single chain)',
          undefined,
          'one outgoing edge',
          outs.join(', '),
        );
    }
    const chain: RawNode[] = [];
    const seen = new Set<string>();
    let cur: RawNode | undefined = inputs[0];
    while (cur) {
      if (seen.has(cur.name)) this.fail(cur, 'is part of a cycle (imcsim networks are a single chain)');
      seen.add(cur.name);
      chain.push(cur);
      if (cur.type === 'Output') break;
      const nx: string[] | undefined = next.get(cur.name);
      if (!nx || nx.length === 0)
        this.fail(cur, 'has no outgoing edge: the path from Input does not reach Output');
      cur = g.nodes.get(nx[0]);
    }
    for (const n of g.nodes.values())
      if (!seen.has(n.name))
        this.fail(n, 'is not on the path from Input to Output (imcsim networks are a single chain)');
    // A Delay of zero everywhere is the identity; any other delay shifts spikes in time, which a chain of
    // layers stepping together cannot express.
    for (const n of chain)
      if (n.type === 'Delay') {
        const d = this.numeric(n, 'delay');
        const k = d.findIndex((v) => v !== 0);
        if (k >= 0)
          this.fail(
            n,
            'Delay with a non-zero delay is not supported (imcsim layers all advance one timestep together; a delay line is not modelled)',
            'delay',
            'all zeros',
            `${d[k]} at index ${k}`,
          );
      }
    return this.build(chain.filter((n) => n.type !== 'Delay'));
  }

  conventionFor(node: RawNode): NirConvention {
    const c = this.opts.convention ?? (node.meta.get('imcsim_convention') as NirConvention | undefined);
    return c && CONVENTIONS.includes(c) ? c : NIR_DEFAULT_CONVENTION;
  }

  dtFor(node: RawNode): number {
    const m = Number(node.meta.get('imcsim_dt'));
    return this.opts.dt ?? (Number.isFinite(m) && m > 0 ? m : NIR_DEFAULT_DT);
  }

  /** Our neuron for an IF/LIF node, the input gain to fold into the weights, and tensor overrides. */
  neuron(
    node: RawNode,
    neurons: number,
  ): {
    neuron: NeuronSpec;
    /** Folded into the weights and bias. */
    gain: number;
    /** Divided into the threshold and reset potential (β conventions). */
    thresholdScale?: number;
    tensors: { threshold?: number; leak?: number };
    /** Taken from our exporter's metadata. */
    fromMeta?: boolean;
  } {
    const convention = this.conventionFor(node);
    const dt = this.dtFor(node);
    if (node.type === 'Threshold') {
      // Heaviside(x − θ), no memory: u = 0·u + x; s = u > θ; reset — the dtsnn update with leak 0.
      const thr = this.scalar(node, 'threshold', neurons);
      if (!(thr > 0)) this.fail(node, 'threshold must be positive', 'threshold', '> 0', String(thr));
      return {
        neuron: NeuronSchema.parse({
          model: 'lif',
          convention: 'dtsnn',
          leak: 0,
          threshold: thr,
          reset: 'hard',
          v_reset: 0,
        }),
        gain: 1,
        tensors: {},
      };
    }
    let r = this.scalar(node, 'r', neurons);
    const thr = this.scalar(node, 'v_threshold', neurons, NIR_DEFAULT_V_THRESHOLD);
    const vReset = this.scalar(node, 'v_reset', neurons, 0);
    let tauMem = 0;
    if (node.type === 'CubaLIF') {
      // τ_syn·dI/dt = −I + w_in·x; τ_mem·dv/dt = (v_leak − v) + r·I. Forward Euler at dt with τ_syn = dt
      // makes I = w_in·x (no synaptic memory): a LIF with input gain r·w_in. Any other τ_syn needs a
      // second state (the synaptic current) that imcsim's neurons do not have.
      const tauSyn = this.scalar(node, 'tau_syn', neurons);
      if (!(Math.abs(tauSyn - dt) <= 1e-6 * dt))
        // float32 files: equal to 1 ppm
        this.fail(
          node,
          `CubaLIF with tau_syn ≠ dt (${dt} s) is not supported: its synaptic current is a second state imcsim's neurons do not keep (snnTorch Synaptic with alpha = 0, or --dt equal to tau_syn, maps exactly)`,
          'tau_syn',
          `${dt} (= dt)`,
          String(tauSyn),
        );
      r *= node.params.has('w_in') ? this.scalar(node, 'w_in', neurons) : 1;
      tauMem = this.scalar(node, 'tau_mem', neurons);
    } else if (node.type === 'LIF') tauMem = this.scalar(node, 'tau', neurons);
    const nir: NirNeuronParams =
      node.type === 'IF'
        ? { type: 'IF', r, v_threshold: thr, v_reset: vReset }
        : {
            type: 'LIF',
            r,
            v_threshold: thr,
            v_reset: vReset,
            tau: tauMem,
            v_leak: this.scalar(node, 'v_leak', neurons, node.type === 'CubaLIF' ? 0 : undefined),
          };
    if (!(thr > 0)) this.fail(node, 'v_threshold must be positive', 'v_threshold', '> 0', String(thr));
    if (!(r > 0)) this.fail(node, 'r must be positive', 'r', '> 0', String(r));

    // Our exporter's exact values, used only when they reproduce the file's NIR parameters.
    const metaNeuron = node.meta.get('imcsim_neuron');
    if (metaNeuron) {
      try {
        const n = NeuronSchema.parse(JSON.parse(metaNeuron));
        const tensors = JSON.parse(node.meta.get('imcsim_tensors') ?? '{}') as {
          threshold?: number;
          leak?: number;
        };
        const metaDt = Number(node.meta.get('imcsim_dt'));
        const sameChoice =
          (this.opts.convention === undefined || this.opts.convention === n.convention) &&
          (this.opts.dt === undefined || this.opts.dt === metaDt);
        const expect = neuronToNir(n, tensors, metaDt);
        if (sameChoice && nirParamsClose(expect, nir)) return { neuron: n, gain: 1, tensors, fromMeta: true };
      } catch {
        // Unusable metadata: fall back to the NIR parameters.
      }
    }

    const conv = neuronConvention(convention);
    if (nir.type === 'IF')
      return { neuron: NeuronSchema.parse(conv.nir.fromIf(thr, vReset)), gain: r, tensors: {} };
    const { tau, v_leak: vLeak } = nir;
    if (!(tau > 0)) this.fail(node, 'tau must be positive', 'tau', '> 0', String(tau));
    if (!(dt > 0)) throw located('dt must be positive', { file: this.file, path: 'dt', found: String(dt) });
    if (dt > tau)
      this.fail(
        node,
        `dt = ${dt} s exceeds the time constant (forward Euler would overshoot); pass a smaller dt`,
        'tau',
        `tau ≥ dt = ${dt}`,
        String(tau),
      );
    const m = conv.nir.fromLif(
      { tau, r, vLeak, vReset, threshold: thr, dt },
      (message, param, expected, found) => this.fail(node, message, param, expected, found),
    );
    return {
      neuron: NeuronSchema.parse(m.neuron),
      gain: m.gain,
      thresholdScale: m.thresholdScale,
      tensors: {},
    };
  }

  /**
   * A Scale node's factors as one per element of `shape` ([C, H, W] or [F]): the file may give one value,
   * one per channel (C or C×1×1) or one per element.
   */
  scaleVector(node: RawNode, shape: number[], perElement = false): Float64Array {
    const v = this.numeric(node, 'scale');
    for (let k = 0; k < v.length; k++)
      if (!Number.isFinite(v[k]))
        this.fail(node, 'scale must be finite', 'scale', 'finite numbers', String(v[k]));
    const C = shape[0];
    const n = prod(shape);
    const hw = n / C;
    const out = new Float64Array(perElement ? n : C);
    if (v.length === 1) out.fill(v[0]);
    else if (v.length === n && perElement) out.set(v);
    else if (v.length === C) {
      if (perElement) for (let c = 0; c < C; c++) out.fill(v[c], c * hw, (c + 1) * hw);
      else out.set(v);
    } else if (v.length === n && !perElement) {
      for (let c = 0; c < C; c++) {
        for (let k = 1; k < hw; k++)
          if (v[c * hw + k] !== v[c * hw])
            this.fail(
              node,
              'a Scale on a layer output must be uniform within each channel (it is folded into the weights)',
              'scale',
              'one value per channel',
              `channel ${c} varies`,
            );
        out[c] = v[c * hw];
      }
    } else
      this.fail(
        node,
        'scale does not match the shape it multiplies',
        'scale',
        `1, ${C} or ${n} values`,
        String(v.length),
      );
    return out;
  }

  /** Per-channel factors of a pending per-element scale; it must be uniform within each channel. */
  perChannel(p: { s: Float64Array; shape: number[]; from: string }, at: RawNode): Float64Array {
    const C = p.shape.length === 3 ? p.shape[0] : p.s.length;
    const hw = p.s.length / C;
    const out = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      out[c] = p.s[c * hw];
      for (let k = 1; k < hw; k++)
        if (p.s[c * hw + k] !== out[c])
          this.fail(
            at,
            `the Scale ${p.from} before it varies within a channel, which cannot be folded into a convolution's or pooling's weights`,
            'scale',
            'one value per channel',
            `channel ${c} varies`,
          );
    }
    return out;
  }

  /** Multiplies the weights by the input scale: per input channel (Conv2d) or per input feature. */
  foldInputScale(
    p: { s: Float64Array; shape: number[]; from: string },
    n: RawNode,
    w: NamedTensor,
    shape: number[],
  ): void {
    if (n.type === 'Conv2d') {
      const s = this.perChannel(p, n);
      const [o, ipg, kh, kw] = w.shape;
      const groups = shape[0] / ipg;
      const opg = o / groups;
      for (let oc = 0; oc < o; oc++)
        for (let ic = 0; ic < ipg; ic++) {
          const f = s[Math.floor(oc / opg) * ipg + ic];
          const base = (oc * ipg + ic) * kh * kw;
          for (let k = 0; k < kh * kw; k++) w.data[base + k] = Math.fround(w.data[base + k] * f);
        }
    } else {
      const [o, inF] = w.shape;
      for (let r = 0; r < o; r++)
        for (let j = 0; j < inF; j++) w.data[r * inF + j] = Math.fround(w.data[r * inF + j] * p.s[j]);
    }
  }

  build(chain: RawNode[]): SnnModel {
    const { file, g } = this;
    const netMeta = parseJson<NetworkMeta>(g.meta.get('imcsim_network'));
    const input = chain[0];
    const inShape = this.shapeOf(input, 'input_type');
    if (inShape.length > 3)
      this.fail(
        input,
        'input shape must be [C, H, W] or [features]',
        'shape',
        '1 to 3 dimensions',
        fmtShape(inShape),
      );
    let shape: number[] = inShape;
    const layers: RawLayer[] = [];
    const tensors: TensorMap = new Map();
    const metadata: Record<string, string> = {
      ...parseJson<Record<string, string>>(g.meta.get('imcsim_model_metadata')),
      source: 'nir',
      nir_file: basename(file),
      ...(g.version ? { nir_version: g.version } : {}),
    };
    const used = new Set<string>();
    const layerName = (n: RawNode) => {
      const base = sanitizeLayerName(n.name, n.type);
      let s = base;
      for (let k = 2; used.has(s); k++) s = `${base}_${k}`;
      used.add(s);
      return s;
    };
    const layerMeta = (name: string) => netMeta?.layers?.[name];
    let firstNeuron: NeuronSpec | undefined;
    let finished = false;
    /** A Scale on the way to the next weighted layer: one factor per element of the current shape. */
    let pendingScale: { s: Float64Array; shape: number[]; from: string } | undefined;

    for (let i = 1; i < chain.length; i++) {
      const n = chain[i];
      if (finished && n.type !== 'Output')
        this.fail(
          n,
          'follows the non-spiking output layer; only Output may come after an LI or an unfollowed layer',
        );
      switch (n.type) {
        case 'Output': {
          if (pendingScale)
            this.fail(
              chain.find((c) => c.name === pendingScale!.from.split(', ')[0])!,
              'a Scale after the last weighted layer cannot be folded into weights',
              'scale',
              'a Scale before or directly after a Conv2d, Affine or Linear node',
            );
          const out = this.shapeOf(n, 'output_type');
          if (prod(out) !== prod(shape))
            this.fail(
              n,
              'the Output shape does not match the last layer',
              'shape',
              fmtShape(shape),
              fmtShape(out),
            );
          break;
        }
        case 'Conv2d':
        case 'Affine':
        case 'Linear': {
          const name = layerName(n);
          const w = this.weight(n, 'weight', n.type === 'Conv2d' ? 4 : 2);
          let bias: NamedTensor | undefined;
          if (n.type !== 'Linear' && n.params.has('bias')) {
            const b = this.param(n, 'bias');
            if (!b.num) this.fail(n, 'bias must be numeric', 'bias', 'floats', 'text');
            const outN = w.shape[0];
            if (b.num.length !== outN && b.num.length !== 1)
              this.fail(n, 'bias does not match the weight', 'bias', `${outN} values`, `${b.num.length}`);
            const data = new Float32Array(outN);
            for (let k = 0; k < outN; k++)
              data[k] = b.f32 ? b.f32[b.num.length === 1 ? 0 : k] : b.num[b.num.length === 1 ? 0 : k];
            bias = { shape: [outN], data };
          } else if (n.type === 'Affine') this.param(n, 'bias');
          const lm = layerMeta(name);
          const useBias = bias !== undefined && (bias.data.some((x) => x !== 0) || lm?.bias === true);
          let layer: RawLayer;
          let outShape: number[];
          if (n.type === 'Conv2d') {
            if (shape.length !== 3)
              this.fail(
                n,
                'Conv2d needs a [C, H, W] input (is a Flatten misplaced?)',
                'weight',
                '3-D input',
                fmtShape(shape),
              );
            const [c, h, wd] = shape;
            const [o, ipg, kh, kw] = w.shape;
            const groups = n.params.has('groups') ? this.numeric(n, 'groups')[0] : 1;
            if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || o % groups !== 0)
              this.fail(
                n,
                'groups must divide the in and out channels',
                'groups',
                `a divisor of ${c} and ${o}`,
                String(groups),
              );
            if (ipg * groups !== c)
              this.fail(
                n,
                'weight does not match the input channels',
                'weight',
                `[${o}, ${c / groups}, kh, kw] for ${c} input channels`,
                fmtShape(w.shape),
              );
            const stride = this.pair(n, 'stride', [1, 1]);
            const dilation = this.pair(n, 'dilation', [1, 1]);
            const padding = this.convPadding(n, [kh, kw], stride, dilation);
            if (n.params.has('input_shape')) {
              const is = [...this.numeric(n, 'input_shape')];
              const hw = is.slice(-2);
              if (hw[0] !== h || hw[1] !== wd)
                this.fail(
                  n,
                  'input_shape does not match the incoming shape',
                  'input_shape',
                  `[${h}, ${wd}]`,
                  fmtShape(is),
                );
            }
            const ho = Math.floor((h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) / stride[0]) + 1;
            const wo = Math.floor((wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) / stride[1]) + 1;
            if (ho < 1 || wo < 1)
              this.fail(
                n,
                'the convolution output would be empty',
                'weight',
                'a positive output size',
                `${ho}×${wo}`,
              );
            outShape = [o, ho, wo];
            layer = {
              name,
              type: 'conv2d',
              out_channels: o,
              kernel: compact([kh, kw]),
              stride: compact(stride),
              padding: compact(padding),
              dilation: compact(dilation),
              groups,
              spiking: true,
              bias: useBias,
            };
          } else {
            if (shape.length !== 1)
              this.fail(
                n,
                `${n.type} needs a flat input (add a Flatten before it)`,
                'weight',
                '1-D input',
                fmtShape(shape),
              );
            const [o, inF] = w.shape;
            if (inF !== shape[0])
              this.fail(
                n,
                'weight does not match the incoming features',
                'weight',
                `[${o}, ${shape[0]}]`,
                fmtShape(w.shape),
              );
            outShape = [o];
            layer = { name, type: 'linear', out_features: o, spiking: true, bias: useBias };
          }
          if (lm?.timesteps !== undefined) layer.timesteps = lm.timesteps;
          // A Scale before this layer (on its input) multiplies the weights of each input channel/feature.
          if (pendingScale) {
            this.foldInputScale(pendingScale, n, w, shape);
            metadata[`nir.${name}.input_scale_folded_from`] = pendingScale.from;
            pendingScale = undefined;
          }
          // The node after a weighted node decides what kind of layer it is; a Scale right after it
          // multiplies its outputs, folded into the weights and bias of each output channel/feature.
          let nx = chain[i + 1];
          if (nx.type === 'Scale') {
            const s = this.scaleVector(nx, outShape);
            const per = w.data.length / w.shape[0];
            for (let o = 0; o < w.shape[0]; o++) {
              for (let k = 0; k < per; k++) w.data[o * per + k] = Math.fround(w.data[o * per + k] * s[o]);
              if (bias) bias.data[o] = Math.fround(bias.data[o] * s[o]);
            }
            metadata[`nir.${name}.output_scale_folded_from`] = nx.name;
            i++;
            nx = chain[i + 1];
          }
          let gain = 1;
          const neurons = prod(outShape);
          if (SPIKING_NODES.includes(nx.type)) {
            const nr = this.neuron(nx, neurons);
            // A layer that used the network's neuron before export does so again.
            const inherits =
              lm?.inherit === true &&
              nr.fromMeta &&
              netMeta?.neuron !== undefined &&
              JSON.stringify(NeuronSchema.parse(netMeta.neuron)) === JSON.stringify(nr.neuron);
            if (!inherits) layer.neuron = nr.neuron;
            firstNeuron ??= nr.neuron;
            gain = nr.gain;
            if (nr.thresholdScale !== undefined)
              metadata[`nir.${name}.threshold_divided_by`] = String(nr.thresholdScale);
            if (nr.tensors.threshold !== undefined)
              tensors.set(`${name}.threshold`, { shape: [1], data: Float32Array.of(nr.tensors.threshold) });
            if (nr.tensors.leak !== undefined)
              tensors.set(`${name}.leak`, { shape: [1], data: Float32Array.of(nr.tensors.leak) });
            i++;
          } else if (ACCUMULATOR_NODES.includes(nx.type)) {
            // LI, CubaLI and I at the output: the non-spiking accumulator (Σ_t W·s_t + b); their leak,
            // synaptic filter and gain are not modelled and are kept in the metadata.
            layer.spiking = false;
            const keys = {
              LI: ['tau', 'r', 'v_leak'],
              CubaLI: ['tau_syn', 'tau_mem', 'r', 'v_leak', 'w_in'],
              I: ['r'],
            }[nx.type as 'LI' | 'CubaLI' | 'I'];
            const params = Object.fromEntries(
              keys
                .filter((k) => nx.params.has(k) || k !== 'w_in')
                .map((k) => [k, this.scalar(nx, k, neurons)]),
            );
            metadata[`nir.${name}.${nx.type === 'LI' ? 'li' : nx.type.toLowerCase()}`] =
              JSON.stringify(params);
            finished = true;
            i++;
          } else if (nx.type === 'Output') {
            layer.spiking = false;
            finished = true;
          } else {
            this.fail(
              n,
              `must be followed by a neuron (IF, LIF, Threshold, CubaLIF), an output node (LI, CubaLI, I) or Output (a weighted layer without neurons inside the network is not supported)`,
              undefined,
              'IF, LIF, Threshold, CubaLIF, LI, CubaLI, I or Output',
              `${nx.type} node "${nx.name}"`,
            );
          }
          if (Math.abs(gain - 1) > 1e-6) {
            for (let k = 0; k < w.data.length; k++) w.data[k] = Math.fround(w.data[k] * gain);
            if (bias)
              for (let k = 0; k < bias.data.length; k++) bias.data[k] = Math.fround(bias.data[k] * gain);
            metadata[`nir.${name}.input_gain`] = String(gain);
          }
          tensors.set(`${name}.weight`, w);
          if (useBias && bias) tensors.set(`${name}.bias`, bias);
          layers.push(layer);
          shape = outShape;
          break;
        }
        case 'SumPool2d':
        case 'AvgPool2d': {
          if (shape.length !== 3)
            this.fail(n, `${n.type} needs a [C, H, W] input`, 'kernel_size', '3-D input', fmtShape(shape));
          const k = this.pair(n, 'kernel_size');
          const s = this.pair(n, 'stride', k);
          const p = this.pair(n, 'padding', [0, 0]);
          if (k[0] < 1 || k[1] < 1 || s[0] < 1 || s[1] < 1)
            this.fail(
              n,
              'kernel_size and stride must be positive',
              'kernel_size',
              '≥ 1',
              `${fmtShape(k)} / ${fmtShape(s)}`,
            );
          const [c, h, wd] = shape;
          const ho = Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1;
          const wo = Math.floor((wd + 2 * p[1] - k[1]) / s[1]) + 1;
          if (ho < 1 || wo < 1)
            this.fail(
              n,
              'the pooling output would be empty',
              'kernel_size',
              'a positive output size',
              `${ho}×${wo}`,
            );
          if (pendingScale) {
            // Pooling is linear per channel: a per-channel scale passes through it.
            const per = this.perChannel(pendingScale, n);
            const out = new Float64Array(c * ho * wo);
            for (let ch = 0; ch < c; ch++) out.fill(per[ch], ch * ho * wo, (ch + 1) * ho * wo);
            pendingScale = { ...pendingScale, s: out, shape: [c, ho, wo] };
          }
          const layer: RawLayer = {
            name: layerName(n),
            type: n.type === 'SumPool2d' ? 'sumpool2d' : 'avgpool2d',
            kernel: compact(k),
            padding: compact(p),
          };
          if (s[0] !== k[0] || s[1] !== k[1]) layer.stride = compact(s);
          layers.push(layer);
          shape = [c, ho, wo];
          break;
        }
        case 'Flatten': {
          const rank = shape.length;
          const norm = (d: number) => (d < 0 ? d + rank : d);
          const start = n.params.has('start_dim') ? norm(this.numeric(n, 'start_dim')[0]) : 0;
          const end = n.params.has('end_dim') ? norm(this.numeric(n, 'end_dim')[0]) : rank - 1;
          if (start !== 0 || end !== rank - 1)
            this.fail(
              n,
              'only a Flatten of the whole (un-batched) input is supported',
              'start_dim',
              `start_dim 0, end_dim -1 (input ${fmtShape(shape)})`,
              `start_dim ${start}, end_dim ${end}`,
            );
          layers.push({ name: layerName(n), type: 'flatten' });
          shape = [prod(shape)];
          if (pendingScale) pendingScale = { ...pendingScale, shape: [...shape] };
          break;
        }
        case 'Scale': {
          const s = this.scaleVector(n, shape, true);
          if (pendingScale) for (let k = 0; k < s.length; k++) s[k] *= pendingScale.s[k];
          pendingScale = {
            s,
            shape: [...shape],
            from: pendingScale ? `${pendingScale.from}, ${n.name}` : n.name,
          };
          break;
        }
        case 'IF':
        case 'LIF':
        case 'LI':
        case 'Threshold':
        case 'CubaLIF':
        case 'CubaLI':
        case 'I':
          this.fail(
            n,
            'a neuron node must directly follow a Conv2d, Affine or Linear node',
            undefined,
            'Conv2d, Affine or Linear before it',
            `${chain[i - 1].type} node "${chain[i - 1].name}"`,
          );
          break;
        case 'Input':
          this.fail(n, 'a second Input node inside the chain');
      }
    }

    const raw = {
      name: this.opts.name ?? netMeta?.name ?? sanitizeLayerName(basename(file, extname(file)), 'nir'),
      ...(netMeta?.description !== undefined ? { description: netMeta.description } : {}),
      ...(netMeta?.dataset !== undefined ? { dataset: netMeta.dataset } : {}),
      input: { shape: inShape, encoding: this.opts.encoding ?? netMeta?.encoding ?? 'direct' },
      classes: prod(shape),
      ...(this.opts.timesteps !== undefined
        ? { timesteps: this.opts.timesteps }
        : netMeta?.timesteps !== undefined
          ? { timesteps: netMeta.timesteps }
          : {}),
      neuron: netMeta?.neuron ?? firstNeuron ?? {},
      layers,
    };
    const parsed = NetworkSchema.safeParse(raw);
    if (!parsed.success)
      throw located(
        `the NIR graph does not map to a valid imcsim network: ${parsed.error.issues
          .map((e) => `${e.path.join('.')}: ${e.message}`)
          .join('; ')}`,
        { file },
      );
    const spec: NetworkSpec = parsed.data;
    const choice = (opt: unknown, meta: unknown): ImportChoice =>
      opt !== undefined ? 'option' : meta !== undefined ? 'imcsim metadata' : 'default';
    metadata['nir.timesteps_from'] = choice(this.opts.timesteps, netMeta?.timesteps);
    metadata['nir.encoding_from'] = choice(this.opts.encoding, netMeta?.encoding);
    const shapes = inferShapes(spec, file);
    checkTensors(spec, shapes, tensors, file);
    return { spec, shapes, tensors, metadata };
  }

  convPadding(
    n: RawNode,
    k: [number, number],
    stride: [number, number],
    dilation: [number, number],
  ): [number, number] {
    const p = n.params.get('padding');
    if (p?.str) {
      const mode = p.str.join('');
      if (mode === 'valid') return [0, 0];
      if (mode === 'same') {
        const total = [dilation[0] * (k[0] - 1), dilation[1] * (k[1] - 1)];
        if (stride[0] !== 1 || stride[1] !== 1 || total[0] % 2 !== 0 || total[1] % 2 !== 0)
          this.fail(
            n,
            'padding "same" needs stride 1 and symmetric padding (odd effective kernel)',
            'padding',
            'stride 1, odd kernel',
            `stride ${fmtShape(stride)}, kernel ${fmtShape(k)}, dilation ${fmtShape(dilation)}`,
          );
        return [total[0] / 2, total[1] / 2];
      }
      this.fail(n, 'unknown padding mode', 'padding', '"same", "valid" or int[2]', mode);
    }
    return this.pair(n, 'padding', [0, 0]);
  }
}

/** A layer before schema defaults are applied (NetworkSchema fills them in). */
type RawLayer = Record<string, unknown>;

function compact(p: readonly [number, number]): number | [number, number] {
  return p[0] === p[1] ? p[0] : [p[0], p[1]];
}

function parseJson<T>(s: string | undefined): T | undefined {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s) as T;
  } catch {
    return undefined;
  }
}

/** Imports a NIR graph (HDF5) as a model: topology plus tensors, checked against each other. */
export async function importNir(file: string, opts: NirImportOptions = {}): Promise<SnnModel> {
  if (opts.convention !== undefined && !CONVENTIONS.includes(opts.convention))
    throw located('unknown neuron convention', {
      path: 'convention',
      expected: CONVENTIONS.join(', '),
      found: String(opts.convention),
    });
  if (opts.dt !== undefined && !(opts.dt > 0 && Number.isFinite(opts.dt)))
    throw located('dt must be a positive number of seconds', {
      path: 'dt',
      expected: '> 0',
      found: String(opts.dt),
    });
  const g = await readGraph(file);
  return new Importer(file, g, opts).run();
}

// ---------------------------------------------------------------------------------------------------
// Export

interface NetworkMeta {
  name?: string;
  description?: string;
  dataset?: string;
  timesteps?: number;
  encoding?: InputEncoding;
  neuron?: NeuronSpec;
  layers?: Record<string, { timesteps?: number; bias?: boolean; inherit?: boolean }>;
}

/** NIR parameters (unit input gain) for one of our neurons; threshold/leak tensors override the spec. */
export function neuronToNir(
  n: NeuronSpec,
  overrides: { threshold?: number; leak?: number },
  dt: number,
): NirNeuronParams {
  const thr = overrides.threshold ?? n.threshold;
  const leak = overrides.leak ?? n.leak;
  if (n.model === 'if') return { type: 'IF', r: 1, v_threshold: thr, v_reset: n.v_reset };
  return neuronConvention(n.convention).nir.toNir(n, thr, leak, dt);
}

function nirParamsClose(a: NirNeuronParams, b: NirNeuronParams): boolean {
  if (a.type !== b.type) return false;
  if (!relClose(a.r, b.r) || !relClose(a.v_threshold, b.v_threshold) || !relClose(a.v_reset, b.v_reset))
    return false;
  if (a.type === 'LIF' && b.type === 'LIF') return relClose(a.tau, b.tau) && relClose(a.v_leak, b.v_leak);
  return true;
}

interface OutNode {
  name: string;
  type: string;
  params: Record<string, Float32Array | BigInt64Array | string | { shape: number[]; data: Float32Array }>;
  meta?: Record<string, string>;
}

const i64 = (...v: number[]) => BigInt64Array.from(v.map((x) => BigInt(x)));
const two = (v: number | readonly [number, number]): [number, number] =>
  typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** Writes a model as a NIR graph (Input → Conv2d/Affine/Linear → IF/LIF → … → Output), atomically. */
export async function exportNir(model: SnnModel, file: string, opts: NirExportOptions = {}): Promise<void> {
  const { spec, tensors } = model;
  const shapes = model.shapes ?? inferShapes(spec);
  const expDt = opts.dt ?? NIR_DEFAULT_DT;
  if (!(expDt > 0))
    throw located('dt must be a positive number of seconds', { path: 'dt', found: String(opts.dt) });
  const nodes: OutNode[] = [];
  const taken = new Set<string>(['input', 'output']);
  const unique = (base: string) => {
    let s = base;
    for (let k = 2; taken.has(s); k++) s = `${base}_${k}`;
    taken.add(s);
    return s;
  };
  const fail = (i: number, msg: string, found?: string): never => {
    throw located(`cannot export to NIR: ${msg}`, { path: `layers[${i}]`, found });
  };
  const tensor = (name: string): NamedTensor => {
    const t = tensors.get(name);
    if (!t) throw located(`cannot export to NIR: the model has no tensor ${name}`, { path: name });
    return t;
  };
  const layerMeta: NonNullable<NetworkMeta['layers']> = {};
  nodes.push({ name: 'input', type: 'Input', params: { shape: i64(...spec.input.shape) } });
  spec.layers.forEach((layer, i) => {
    const ls = shapes.layers[i];
    const name = unique(sanitizeLayerName(ls.name, layer.type));
    switch (layer.type) {
      case 'conv2d':
      case 'linear': {
        const w = tensor(`${ls.name}.weight`);
        const outN = w.shape[0];
        const b = layer.bias ? tensor(`${ls.name}.bias`).data : new Float32Array(outN);
        if (layer.type === 'conv2d') {
          nodes.push({
            name,
            type: 'Conv2d',
            params: {
              weight: { shape: w.shape, data: w.data },
              bias: b,
              stride: i64(...two(layer.stride)),
              padding: i64(...two(layer.padding)),
              dilation: i64(...two(layer.dilation)),
              groups: i64(layer.groups),
              input_shape: i64(...ls.inShape.slice(1)),
            },
          });
        } else if (layer.bias) {
          nodes.push({ name, type: 'Affine', params: { weight: { shape: w.shape, data: w.data }, bias: b } });
        } else {
          nodes.push({ name, type: 'Linear', params: { weight: { shape: w.shape, data: w.data } } });
        }
        layerMeta[name] = {
          bias: layer.bias,
          ...(layer.spiking && layer.neuron === undefined ? { inherit: true } : {}),
          ...(layer.timesteps !== undefined ? { timesteps: layer.timesteps } : {}),
        };
        if (!layer.spiking) {
          if (spec.layers.slice(i + 1).some((l) => l.type !== 'dropout'))
            fail(
              i,
              'a non-spiking layer must be the last layer (NIR has no neuron-free layer inside a chain)',
              ls.name,
            );
          break;
        }
        const neuron = layer.neuron ?? spec.neuron;
        const ov: { threshold?: number; leak?: number } = {};
        const th = tensors.get(`${ls.name}.threshold`);
        const lk = tensors.get(`${ls.name}.leak`);
        if (th) ov.threshold = th.data[0];
        if (lk) ov.leak = lk.data[0];
        const dt = neuron.convention === 'norse' ? neuron.dt : expDt;
        const p = neuronToNir(neuron, ov, dt);
        const count = prod(ls.outShape);
        const full = (v: number) => ({ shape: [...ls.outShape], data: new Float32Array(count).fill(v) });
        const params: OutNode['params'] =
          p.type === 'IF'
            ? { r: full(p.r), v_threshold: full(p.v_threshold), v_reset: full(p.v_reset) }
            : {
                tau: full(p.tau),
                r: full(p.r),
                v_leak: full(p.v_leak),
                v_threshold: full(p.v_threshold),
                v_reset: full(p.v_reset),
              };
        nodes.push({
          name: unique(`${name}_${p.type.toLowerCase()}`),
          type: p.type,
          params,
          meta: {
            imcsim_neuron: JSON.stringify(neuron),
            imcsim_convention: neuron.convention,
            imcsim_dt: String(dt),
            ...(Object.keys(ov).length ? { imcsim_tensors: JSON.stringify(ov) } : {}),
          },
        });
        break;
      }
      case 'avgpool2d':
      case 'sumpool2d': {
        const k = two(layer.kernel);
        nodes.push({
          name,
          type: layer.type === 'avgpool2d' ? 'AvgPool2d' : 'SumPool2d',
          params: {
            kernel_size: i64(...k),
            stride: i64(...(layer.stride === undefined ? k : two(layer.stride))),
            padding: i64(...two(layer.padding)),
          },
        });
        break;
      }
      case 'flatten':
        nodes.push({
          name,
          type: 'Flatten',
          params: { start_dim: i64(0), end_dim: i64(-1), input_type: i64(...ls.inShape) },
        });
        break;
      case 'dropout':
        break; // identity at inference
      case 'maxpool2d':
        fail(i, 'NIR has no max pooling node', layer.type);
        break;
      case 'batchnorm':
        fail(i, 'fold batchnorm into the preceding layer first (NIR has no batchnorm node)', layer.type);
    }
  });
  nodes.push({ name: 'output', type: 'Output', params: { shape: i64(...shapes.outputShape) } });
  const edges: string[] = [];
  for (let k = 0; k + 1 < nodes.length; k++) edges.push(nodes[k].name, nodes[k + 1].name);
  const netMeta: NetworkMeta = {
    name: spec.name,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.dataset !== undefined ? { dataset: spec.dataset } : {}),
    timesteps: spec.timesteps,
    encoding: spec.input.encoding,
    neuron: spec.neuron,
    layers: layerMeta,
  };

  const lib = await h5();
  const tmp = `${file}.tmp-${process.pid}`;
  prepareOutputFile(file, tmp);
  try {
    const f = new lib.File(tmp, 'w');
    try {
      f.create_dataset({ name: 'version', data: NIR_VERSION });
      const root = f.create_group('node');
      root.create_dataset({ name: 'type', data: 'NIRGraph' });
      root.create_dataset({ name: 'edges', data: edges, shape: [edges.length / 2, 2] });
      const meta = root.create_group('metadata');
      meta.create_dataset({ name: 'imcsim_network', data: JSON.stringify(netMeta) });
      meta.create_dataset({ name: 'imcsim_model_metadata', data: JSON.stringify(model.metadata ?? {}) });
      const ng = root.create_group('nodes');
      for (const n of nodes) {
        const g = ng.create_group(n.name);
        g.create_dataset({ name: 'type', data: n.type });
        for (const [k, v] of Object.entries(n.params)) {
          if (typeof v === 'string') g.create_dataset({ name: k, data: v });
          else if (v instanceof BigInt64Array)
            g.create_dataset({
              name: k,
              data: v,
              shape: k === 'groups' || k.endsWith('_dim') ? [] : [v.length],
            });
          else if (v instanceof Float32Array) g.create_dataset({ name: k, data: v, shape: [v.length] });
          else g.create_dataset({ name: k, data: v.data, shape: v.shape });
        }
        if (n.meta) {
          const m = g.create_group('metadata');
          for (const [k, v] of Object.entries(n.meta)) m.create_dataset({ name: k, data: v });
        }
      }
    } finally {
      f.close();
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
