import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadArch } from '../../src/config/load.js';
import { inferShapes } from '../../src/network/shapes.js';
import { fanOut } from '../../src/replay/activity.js';
import { TraceReader } from '../../src/trace/format.js';
import type { SimulationResult } from '../../src/pricing/results.js';
import { tidy } from '../../src/util/format.js';
import { makeRuns, ARCH, type TestRuns } from './runs.js';

/**
 * Efficiency figures, SOPs, firing rates and utilisation against oracles written here: the trace decoded
 * by hand and every synapse of every output neuron visited (no fan-out table), run time from the sample
 * rows, the crossbar's busy time from its read count and the configured read pulse.
 */
let runs: TestRuns;
beforeAll(async () => {
  runs = await makeRuns('imcsim-eff-');
}, 120_000);

interface Oracle {
  /** sops[layer][t], active[layer][t], frames[layer][t] */
  sops: number[][];
  active: number[][];
  frames: number[][];
  elements: number[];
  kinds: string[];
}

/** Naive SOP count: for every output neuron, every weight, is its input non-zero? */
async function oracle(trace: string): Promise<Oracle> {
  const reader = await TraceReader.open(trace);
  try {
    const h = reader.header;
    const shapes = inferShapes(h.network);
    const L = h.layers.length;
    const T = Math.max(...h.layers.map((l) => l.timesteps));
    const z = () => Array.from({ length: L }, () => new Array<number>(T).fill(0));
    const o: Oracle = {
      sops: z(),
      active: z(),
      frames: z(),
      elements: h.layers.map((l) => l.input_elements),
      kinds: h.layers.map((l) => l.input_kind),
    };
    for await (const s of reader) {
      for (let l = 0; l < L; l++) {
        const m = shapes.mapped[l];
        const n = h.layers[l].input_elements;
        for (let t = 0; t < s.inputs[l].length; t++) {
          const f = s.inputs[l][t];
          const on = (i: number) =>
            f instanceof Float32Array ? f[i] !== 0 : ((f[Math.floor(i / 8)] >> (i % 8)) & 1) === 1;
          let act = 0;
          for (let i = 0; i < n; i++) if (on(i)) act++;
          let sops = 0;
          if (m.kind === 'linear') sops = act * m.outChannels;
          else {
            const [C, H, W] = m.inShape as number[];
            const [CO, HO, WO] = m.outShape as number[];
            const [kh, kw] = m.kernel;
            const c = m.conv!;
            const cinPerGroup = C / m.groups;
            const coutPerGroup = CO / m.groups;
            for (let co = 0; co < CO; co++) {
              const g = Math.floor(co / coutPerGroup);
              for (let oy = 0; oy < HO; oy++)
                for (let ox = 0; ox < WO; ox++)
                  for (let ci = g * cinPerGroup; ci < (g + 1) * cinPerGroup; ci++)
                    for (let ky = 0; ky < kh; ky++)
                      for (let kx = 0; kx < kw; kx++) {
                        const y = oy * c.sh - c.ph + ky * c.dh;
                        const x = ox * c.sw - c.pw + kx * c.dw;
                        if (y < 0 || y >= H || x < 0 || x >= W) continue;
                        if (on((ci * H + y) * W + x)) sops++;
                      }
            }
          }
          o.sops[l][t] += sops;
          o.active[l][t] += act;
          o.frames[l][t] += 1;
        }
      }
    }
    return o;
  } finally {
    await reader.close();
  }
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('activity: SOPs and firing rates', () => {
  it('fan-out of a padded 3×3 convolution, worked by hand', () => {
    // 1×3×3 input, 2 output channels, 3×3 kernel, stride 1, padding 1 → 3×3 output. The centre input is
    // under all 9 windows, an edge one under 6, a corner one under 4; times 2 output channels.
    const f = fanOut({
      kind: 'conv2d',
      inShape: [1, 3, 3],
      outShape: [2, 3, 3],
      kernel: [3, 3],
      conv: { sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1 },
      groups: 1,
      outChannels: 2,
      inputElements: 9,
    } as unknown as Parameters<typeof fanOut>[0]);
    expect(Array.from(f)).toEqual([8, 12, 8, 12, 18, 12, 8, 12, 8]);
    // Stride 2, no padding, 2×2 kernel on 1×4×4: every input under exactly one window.
    const g = fanOut({
      kind: 'conv2d',
      inShape: [1, 4, 4],
      outShape: [3, 2, 2],
      kernel: [2, 2],
      conv: { sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1 },
      groups: 1,
      outChannels: 3,
      inputElements: 16,
    } as unknown as Parameters<typeof fanOut>[0]);
    expect(Array.from(g)).toEqual(new Array(16).fill(3));
  });

  for (const which of ['static', 'entropy'] as const) {
    it(`${which}: SOPs per layer and timestep equal a naive count over every synapse; firing rates from the trace`, async () => {
      const r: SimulationResult = which === 'static' ? runs.staticResult : runs.entropyResult;
      const o = await oracle(which === 'static' ? runs.staticTrace : runs.entropyTrace);
      expect(r.activity.sops).toBe(sum(o.sops.map(sum)));
      r.activity.layers.forEach((l, i) => {
        expect(l.sops, l.layer).toBe(sum(o.sops[i]));
        expect(l.active_inputs).toBe(sum(o.active[i]));
        expect(l.frames).toBe(sum(o.frames[i]));
        expect(l.firing_rate).toBeCloseTo(sum(o.active[i]) / (sum(o.frames[i]) * o.elements[i]), 12);
        expect(l.input_kind).toBe(o.kinds[i]);
      });
      r.activity.timesteps.forEach((t, k) => {
        expect(t.sops).toBe(sum(o.sops.map((row) => row[k])));
        let spikes = 0;
        let slots = 0;
        o.kinds.forEach((kind, i) => {
          if (kind !== 'spikes') return;
          spikes += o.active[i][k];
          slots += o.frames[i][k] * o.elements[i];
        });
        expect(t.firing_rate).toBeCloseTo(slots ? spikes / slots : 0, 12);
      });
      // Every layer's input has some activity in these traces (rate 0.15): no silent zeros.
      for (const l of r.activity.layers) expect(l.sops).toBeGreaterThan(0);
    });
  }
});

describe('efficiency figures', () => {
  for (const which of ['static', 'entropy'] as const) {
    it(`${which}: throughput, power, pJ/SOP, SOP/s/W and per-mm² figures from the raw records`, async () => {
      const r = which === 'static' ? runs.staticResult : runs.entropyResult;
      const o = await oracle(which === 'static' ? runs.staticTrace : runs.entropyTrace);
      const sops = sum(o.sops.map(sum));
      // Run time from the samples: first start to last end.
      const t0 = Math.min(...r.sample_rows.map((s) => s.start_s));
      const t1 = Math.max(...r.sample_rows.map((s) => s.start_s + s.latency_s));
      const runTime = t1 - t0;
      // Energy from the components' records (dynamic + leakage), not the total field.
      const energy = Object.values(r.components).reduce(
        (a, c) => a + c.dynamic_energy_j + c.leakage_energy_j,
        0,
      );
      const mm2 = Object.values(r.components).reduce((a, c) => a + c.area_m2, 0) * 1e6;
      const e = r.efficiency;
      expect(rel(e.throughput_inferences_per_s, r.sample_rows.length / runTime)).toBeLessThan(1e-12);
      expect(rel(e.average_power_w, energy / runTime)).toBeLessThan(1e-12);
      expect(e.sops).toBe(sops);
      expect(rel(e.energy_per_sop_j, energy / sops)).toBeLessThan(1e-12);
      expect(rel(e.sops_per_s_per_w, sops / runTime / (energy / runTime))).toBeLessThan(1e-12);
      expect(rel(e.inferences_per_s_per_mm2, r.sample_rows.length / runTime / mm2)).toBeLessThan(1e-12);
      expect(rel(e.sops_per_s_per_mm2, sops / runTime / mm2)).toBeLessThan(1e-12);
      // Plausibility of the magnitude: a few pJ per SOP on this 32 nm chip (ISAAC-class periphery).
      expect(e.energy_per_sop_j * 1e12).toBeGreaterThan(0.1);
      expect(e.energy_per_sop_j * 1e12).toBeLessThan(100);
    });
  }

  it('utilisation: layers = busy time / run time; crossbar = reads × read pulse / (crossbars × run time)', () => {
    const r = runs.staticResult;
    const t1 = Math.max(...r.sample_rows.map((s) => s.start_s + s.latency_s));
    r.utilisation.layers.forEach((u, i) => {
      expect(u.layer).toBe(r.layers[i].name);
      expect(rel(u.utilisation, r.layers[i].latency_s / t1)).toBeLessThan(1e-12);
    });
    // Layer-sequential: the layers take turns, so together they are busy at most the whole run.
    expect(sum(r.utilisation.layers.map((u) => u.utilisation))).toBeLessThanOrEqual(1 + 1e-12);
    const pulse = loadArch(ARCH).crossbar.read_pulse_s;
    const xb = r.components.crossbar;
    expect(
      rel(r.utilisation.components.crossbar!, (xb.actions.read.count * pulse) / (xb.area_units * t1)),
    ).toBeLessThan(1e-12);
    // Buffers are sized in bits: no instance count, so no utilisation (null, not a silent 0).
    expect(r.utilisation.components.membrane_buffer).toBeNull();
    // The exit unit is never used by the static policy: 0 % busy.
    expect(r.utilisation.components.entropy_unit).toBe(0);
  });

  it('the exit unit: cost per evaluation from its model, used or not; gated under static', () => {
    const st = runs.staticResult.exit_unit;
    const en = runs.entropyResult.exit_unit;
    expect(st.power_gated).toBe(true);
    expect(st.energy_j).toBe(0);
    // The same unit on both chips: the same cost per evaluation and static power when powered.
    expect(st.energy_per_evaluation_j).toBe(en.energy_per_evaluation_j);
    expect(st.leakage_when_powered_w).toBe(en.leakage_when_powered_w);
    // The entropy run's dynamic exit-unit energy is evaluations × that cost.
    const dyn = runs.entropyResult.components.entropy_unit.dynamic_energy_j;
    expect(rel(dyn, en.evaluations * en.energy_per_evaluation_j)).toBeLessThan(1e-12);
  });
});

describe('numbers in the files', () => {
  it('tidy: 12 significant digits, float noise gone, integers exact', () => {
    expect(tidy(0.1 + 0.2)).toBe(0.3);
    expect(tidy(0.00008997135000000001)).toBe(0.00008997135);
    expect(tidy(0.012523178000000001)).toBe(0.012523178);
    expect(tidy(2 ** 53 - 1)).toBe(2 ** 53 - 1);
    expect(tidy(1234567.891234567)).toBe(1234567.89123);
    expect(tidy(-5.318582376339645e-12)).toBe(-5.31858237634e-12);
  });

  it('no run-folder CSV or JSON number carries more than 12 significant digits', () => {
    for (const dir of [runs.staticRun, runs.entropyRun])
      for (const f of readdirSync(dir).filter((x) => /\.(csv|json)$/.test(x))) {
        const text = readFileSync(join(dir, f), 'utf8');
        for (const m of text.matchAll(/-?\d+\.\d+(?:e[-+]?\d+)?/g)) {
          const mantissa = m[0].replace(/e.*/, '').replace(/[-.]/g, '').replace(/^0+/, '');
          expect(mantissa.length, `${f}: ${m[0]}`).toBeLessThanOrEqual(12);
        }
      }
  });
});
