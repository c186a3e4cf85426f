/**
 * The per-layer, per-timestep actions outside the crossbars — input buffering and broadcast, merging of
 * row pieces, neuron updates with their membrane traffic (and its spill to the global buffer), the output
 * accumulator, pooling — shared by the analytic model and the trace replay so both count them alike.
 */
import type { ArchSpec } from '../config/schema.js';
import { A } from '../hw/actions.js';
import type { LayerMapping } from './mapping.js';
import type { ActionCounts } from '../hw/counts.js';

export interface MembraneUse {
  /** Fraction of the layer's potentials that spill to the global buffer. */
  spill: number;
  /** Membrane-buffer accesses (port-width) this timestep, reads plus writes, excluding the spill. */
  accesses: number;
  /** Potential reads + writes per neuron this timestep (0, 1 or 2). */
  opsPerNeuron: number;
}

/**
 * Adds the layer's support actions at timestep t (of Tl it runs) to counts[row][ts].
 * `passes` is 1 for spikes or the number of input bit-planes; `elemBits` the bits of one input element.
 */
export function countLayerSupport(
  spec: ArchSpec,
  lm: LayerMapping,
  t: number,
  Tl: number,
  passes: number,
  elemBits: number,
  counts: ActionCounts,
  row: number,
  ts: number,
): MembraneUse {
  const layer = lm.layer;
  const P = layer.positions;
  const rowsTotal = layer.rows * layer.groups;
  counts.add(
    row,
    ts,
    A.TILEBUF_WRITE,
    Math.ceil((layer.inputElements * elemBits) / spec.tile_buffer.width_bits),
  );
  counts.add(row, ts, A.TILEBUF_READ, P * passes * Math.ceil(rowsTotal / spec.tile_buffer.width_bits));
  counts.add(row, ts, A.BUS_TRANSFER, P * passes * rowsTotal);
  // Row pieces of one column group merge into one sum per neuron.
  counts.add(row, ts, A.SHIFT_ADD, (lm.rowSplits - 1) * layer.outChannels * P);
  const use: MembraneUse = { spill: 0, accesses: 0, opsPerNeuron: 0 };
  if (layer.spiking) {
    counts.add(row, ts, A.LIF_UPDATE, layer.neurons);
    // Potentials are read at t > 0 and written at t < T−1: at T = 1 none is kept.
    const potentialBits = layer.neurons * spec.lif_unit.potential_bits;
    const capacity = spec.membrane_buffer.capacity_bits * lm.tiles.length * lm.tileShare;
    const spill = potentialBits > capacity ? 1 - capacity / potentialBits : 0;
    const reads = t > 0 ? 1 : 0;
    const writes = t < Tl - 1 ? 1 : 0;
    const perStep = Math.ceil(potentialBits / spec.membrane_buffer.width_bits);
    counts.add(row, ts, A.MEMBRANE_READ, reads * perStep * (1 - spill));
    counts.add(row, ts, A.MEMBRANE_WRITE, writes * perStep * (1 - spill));
    const gAcc = Math.ceil((potentialBits * spill) / spec.global_buffer.width_bits);
    counts.add(row, ts, A.GLOBAL_READ, reads * gAcc);
    counts.add(row, ts, A.GLOBAL_WRITE, writes * gAcc);
    use.spill = spill;
    use.opsPerNeuron = reads + writes;
    use.accesses = (reads + writes) * perStep * (1 - spill);
  } else {
    // Non-spiking output accumulator: one add per output per timestep.
    counts.add(row, ts, A.SHIFT_ADD, layer.neurons);
  }
  if (layer.pooling)
    counts.add(row, ts, A.SHIFT_ADD, (layer.neurons / layer.pooling.window) * (layer.pooling.window - 1));
  return use;
}
