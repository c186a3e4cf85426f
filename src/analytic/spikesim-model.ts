/**
 * SpikeSim's energy / latency / area model (public SpikeSim repository, ela_spikesim.py; docs/SOURCES.md
 * §5), expressed as action counts so it is priced by the same path as every other estimate.
 *
 * - Activity-independent: every input is assumed active; spike rates, if given, are ignored (noted).
 * - Only conv layers are priced (SpikeSim's tool takes conv layer lists); other layers are listed as
 *   excluded, with the reason, never silently zero.
 * - A conv followed by pooling is counted at the pooled output size (SpikeSim's out_dim convention).
 * - Per layer per timestep: PEcycles = ceil(Cout/x)·ceil(Cin/x)·out_dim², x = crossbar size. Per PE
 *   cycle SpikeSim charges g = x/8 mux rounds, each reading the PE's k² crossbars (all rows at once) and
 *   converting on its g = x/8 ADCs (ela_spikesim.py: `xbar_size / 8 * PE_ar` with
 *   `PE_ar = k²·xbar + xbar_size / 8 · (ADC + MUX)`): g·k² crossbar read rounds, g² conversions and mux
 *   selects, 16·g subtractor ops, g temp-buffer writes, and one tile-buffer, H-tree, memory-fetch and
 *   neuron activation. So conversions grow with (x/8)²; the 8 is SpikeSim's, fixed (adc.columns_per_adc
 *   must be 8 under this accounting). rows_parallel is not used: SpikeSim reads all rows at once.
 * - Latency: (N_last·T + Σ_{j<last} int(0.75·N_j)·T)·PE_cycle, N = out_dim²·Cout, PE cycle = 26 clocks.
 * - Area: tiles = ceil(ΣPEs / pes_per_tile) (packed); per tile pes_per_tile PEs of k² crossbars and m
 *   ADCs + muxes, m subtractors, one temp buffer, tile buffer and H-tree; activation memory of every
 *   layer's input at potential_bits per value; neuron memory of the first five layers (SpikeSim's [0:5]).
 */
import { SPIKESIM_COLUMNS_PER_ADC } from '../config/schema.js';
import { A, COMPONENTS } from '../hw/actions.js';
import { ceilDiv } from '../chip/mapping.js';
import { ActionCounts } from '../hw/counts.js';
import type { ModelOutput } from '../pricing/price.js';
import type { AreaUnits, Excluded, Workload } from '../chip/workload.js';

/** SpikeSim: one PE cycle is 26 clocks (ela_spikesim.py: PE_cycle = 26·(1000/clk_freq) ns). */
export const SPIKESIM_PE_CYCLE_CLOCKS = 26;
/** SpikeSim's latency model: a layer hands over after 0.75 of its outputs (cp = 0.75). */
export const SPIKESIM_OVERLAP = 0.75;
/** SpikeSim counts neuron memory for the first five layers only (out_ch_list[0:5]). */
export const SPIKESIM_NEURON_MEMORY_LAYERS = 5;
/** SpikeSim's g = x/8 (x = crossbar columns): ADCs per PE, and mux rounds per PE cycle. */
export function spikesimAdcGroups(columns: number): number {
  return columns / SPIKESIM_COLUMNS_PER_ADC;
}

const NC = COMPONENTS.length;
const ci = (c: (typeof COMPONENTS)[number]) => COMPONENTS.indexOf(c);

export function spikesimModel(w: Workload): ModelOutput {
  const { spec, mapping } = w;
  const L = mapping.layers.length;
  const T = w.timesteps;
  const counts = new ActionCounts(L + 1, T);
  const busy = new Float64Array((L + 1) * T);
  const g = spikesimAdcGroups(spec.crossbar.columns);
  const peCycle = SPIKESIM_PE_CYCLE_CLOCKS / spec.chip.clock_hz;
  const excluded: Excluded[] = [];
  const convs = mapping.layers.filter((lm) => lm.excluded === null);
  const lastConv = convs[convs.length - 1];
  for (let l = 0; l < L; l++) {
    const lm = mapping.layers[l];
    const layer = lm.layer;
    if (lm.excluded !== null) {
      excluded.push({ layer: layer.name, reason: lm.excluded });
      continue;
    }
    const k2 = layer.kernel[0] * layer.kernel[1];
    const d = layer.pooledOutDim;
    // ceil(Cout/x)·ceil(Cin/x) crossbar sets of k² (the kernel-position mapping), times out_dim².
    const peCycles = (lm.crossbars / (k2 * layer.groups)) * d * d;
    const N = d * d * layer.outChannels;
    const stepsOfOutputs = lm === lastConv ? N : Math.trunc(SPIKESIM_OVERLAP * N);
    for (let t = 0; t < w.layerTimesteps[l]; t++) {
      counts.add(l, t, A.XBAR_READ_ROUND, peCycles * g * k2);
      counts.add(l, t, A.ADC_CONVERT, peCycles * g * g);
      counts.add(l, t, A.MUX_SELECT, peCycles * g * g);
      counts.add(l, t, A.SHIFT_ADD, peCycles * g * 16);
      counts.add(l, t, A.OUTREG_WRITE, peCycles * g);
      counts.add(l, t, A.TILEBUF_PE_CYCLE, peCycles);
      counts.add(l, t, A.BUS_PE_CYCLE, peCycles);
      counts.add(l, t, A.GLOBAL_PE_CYCLE, peCycles);
      counts.add(l, t, A.LIF_PE_CYCLE, peCycles);
      busy[l * T + t] = stepsOfOutputs * peCycle;
    }
  }
  let latency = 0;
  for (let i = 0; i < busy.length; i++) latency += busy[i];
  const notes = [
    'SpikeSim accounting: activity-independent, every input active; no NoC, no leakage, no exit unit',
  ];
  if (w.ratesGiven) notes.push('spike rates ignored: SpikeSim accounting is activity-independent');
  return { counts, timing: { busy_s: busy, latency_s: latency }, area: spikesimArea(w), excluded, notes };
}

function spikesimArea(w: Workload): AreaUnits {
  const { spec, mapping } = w;
  const L = mapping.layers.length;
  const chip = new Float64Array(NC);
  const perLayer = new Float64Array(L * NC);
  const m = spikesimAdcGroups(spec.crossbar.columns);
  const convs = mapping.layers.filter((lm) => lm.excluded === null);
  const pes = convs.reduce((s, lm) => s + lm.pes, 0);
  const tiles = ceilDiv(pes, spec.tile.pes_per_tile);
  const peSlots = tiles * spec.tile.pes_per_tile;
  const k2 = spec.pe.crossbars_per_pe;
  chip[ci('crossbar')] = peSlots * k2;
  chip[ci('adc')] = peSlots * m;
  chip[ci('column_mux')] = peSlots * m;
  chip[ci('shift_add')] = tiles * m;
  chip[ci('output_register')] = tiles;
  chip[ci('tile_buffer')] = tiles * spec.tile_buffer.capacity_bits;
  chip[ci('tile_bus')] = tiles;
  const pb = spec.lif_unit.potential_bits;
  let activations = 0;
  let neurons = 0;
  convs.forEach((lm, i) => {
    const inDim = lm.layer.inDim;
    activations += lm.layer.inChannels * inDim * inDim;
    if (i < SPIKESIM_NEURON_MEMORY_LAYERS)
      neurons += lm.layer.outChannels * lm.layer.pooledOutDim * lm.layer.pooledOutDim;
    perLayer[lm.layer.index * NC + ci('global_buffer')] = lm.layer.inChannels * inDim * inDim * pb;
    if (i < SPIKESIM_NEURON_MEMORY_LAYERS)
      perLayer[lm.layer.index * NC + ci('membrane_buffer')] =
        lm.layer.outChannels * lm.layer.pooledOutDim ** 2 * pb;
  });
  chip[ci('global_buffer')] = activations * pb;
  chip[ci('membrane_buffer')] = neurons * pb;
  return {
    chip,
    perLayer,
    notes: [
      `SpikeSim area: ${tiles} tiles of ${spec.tile.pes_per_tile} PEs (${pes} PEs used); row drivers, LIF logic, entropy unit and NoC are not in SpikeSim's area model`,
    ],
  };
}
