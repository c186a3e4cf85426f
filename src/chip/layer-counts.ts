/**
 * The per-layer, per-timestep actions outside the crossbars — input buffering and broadcast, merging of
 * row pieces, neuron updates with their membrane traffic (and its spill to the global buffer), the output
 * accumulator, pooling — shared by the analytic model and the trace replay so both count them alike.
 */
import type { InputEncoding } from '../network/schema.js';
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
  /**
   * Stored pre-activation bits accessed per neuron this timestep (a static first layer under
   * `schedule.reuse_static_input`: written at t = 0, read at every t > 0; else 0).
   */
  preBitsPerNeuron: number;
}

/**
 * True when layer `lm` sees the same multi-bit input at every timestep (the direct-encoded image feeding
 * the first weighted layer) and the chip keeps its pre-activations (`schedule.reuse_static_input`): its
 * crossbars, ADCs, shift-adds and input delivery then run once per inference, at t = 0, and every later
 * timestep reads the stored pre-activations from the membrane buffer (spilling as potentials do).
 */
export function reusesStaticInput(spec: ArchSpec, encoding: InputEncoding, lm: LayerMapping): boolean {
  return (
    spec.schedule.reuse_static_input && encoding === 'direct' && lm.layer.index === 0 && !lm.layer.binaryInput
  );
}

/** Bits of one stored pre-activation (a partial-sum word). */
export function preActivationBits(spec: ArchSpec): number {
  return spec.noc.psum_bits;
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
  staticReuse = false,
): MembraneUse {
  const layer = lm.layer;
  // A static first layer keeps its pre-activations when it runs more than one timestep.
  const keep = staticReuse && Tl > 1;
  const preBits = keep ? layer.neurons * preActivationBits(spec) : 0;
  const use: MembraneUse = { spill: 0, accesses: 0, opsPerNeuron: 0, preBitsPerNeuron: 0 };
  // Spill of what the layer keeps in its membrane buffers: potentials (spiking) and pre-activations.
  const potentialBits = layer.spiking ? layer.neurons * spec.lif_unit.potential_bits : 0;
  const capacity = spec.membrane_buffer.capacity_bits * lm.tiles.length * lm.tileShare;
  const kept = potentialBits + preBits;
  const spill = kept > capacity ? 1 - capacity / kept : 0;
  if (keep) {
    // t = 0 writes the pre-activations once; every later timestep reads them instead of recomputing.
    const perStep = Math.ceil(preBits / spec.membrane_buffer.width_bits);
    const gAcc = Math.ceil((preBits * spill) / spec.global_buffer.width_bits);
    counts.add(row, ts, t === 0 ? A.MEMBRANE_WRITE : A.MEMBRANE_READ, perStep * (1 - spill));
    counts.add(row, ts, t === 0 ? A.GLOBAL_WRITE : A.GLOBAL_READ, gAcc);
    use.spill = spill;
    use.accesses += perStep * (1 - spill);
    use.preBitsPerNeuron = preActivationBits(spec);
  }
  const replayed = keep && t > 0;
  if (!replayed) countInputSupport(spec, lm, passes, elemBits, counts, row, ts);
  if (layer.spiking) {
    counts.add(row, ts, A.LIF_UPDATE, layer.neurons);
    // Potentials are read at t > 0 and written at t < T−1: at T = 1 none is kept.
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
    use.accesses += (reads + writes) * perStep * (1 - spill);
  } else {
    // Non-spiking output accumulator: one add per output per timestep.
    counts.add(row, ts, A.SHIFT_ADD, layer.neurons);
  }
  if (layer.pooling)
    counts.add(row, ts, A.SHIFT_ADD, (layer.neurons / layer.pooling.window) * (layer.pooling.window - 1));
  return use;
}

/** Input buffering and broadcast, and the merge of row pieces: the work of a layer's crossbar pass. */
function countInputSupport(
  spec: ArchSpec,
  lm: LayerMapping,
  passes: number,
  elemBits: number,
  counts: ActionCounts,
  row: number,
  ts: number,
): void {
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
}
