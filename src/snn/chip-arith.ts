/**
 * Hardware-aware inference: a functional model of the chip's arithmetic, layer by layer, on the same
 * mapping the replay counts (chip/mapping.ts, chip/rows.ts). Attached to an Engine, it replaces the
 * float scatter-accumulate of every mapped layer and rounds membrane potentials to the LIF unit's width.
 *
 * Weights (the engine's, batchnorm folded) are quantised to `crossbar.weight_bits` with one scale per
 * layer or per output channel (`crossbar.weight_scale`), signed as `crossbar.signed_weights` says:
 *   differential  q = round(|w|/s) ∈ [0, 2^b − 1] on the + or − column of a pair, s = max|w| / (2^b − 1)
 *   offset        q = round(w/s) ∈ [−2^(b−1), 2^(b−1) − 1] stored as q + 2^(b−1), s = max|w| / max(1, 2^(b−1) − 1);
 *                 2^(b−1) × (active rows) is subtracted digitally after the ADC
 *   unsigned      q = round(w/s) ∈ [0, 2^b − 1], s = max(w) / (2^b − 1); negative weights are lost (0)
 * and sliced over S = ceil(weight_bits / cell_bits) cells, slice k holding bits [k·cb, (k+1)·cb) as one of
 * 2^cb levels. Conductances are kept in units of one level step ΔG = (G_on − G_off)/(2^cb − 1); with a
 * finite on/off ratio the off state adds g0 = (2^cb − 1)/(hrs/lrs − 1) to every cell.
 *
 * A read: for each output position and row piece (chip/rows.ts), the active rows of a bit-plane (spikes:
 * one plane; multi-bit inputs: `crossbar.input_bits` planes of the per-frame quantiser, sign by the row
 * driver's polarity) are taken in row order in groups of `rows_parallel` (without zero-skipping: fixed
 * blocks of rows_parallel rows); every physical column's current (Σ of its active cells) goes through the
 * ADC: `adc.bits` codes over [0, Y] (a layer whose inputs can be negative: ±Y, sign + magnitude), with
 * step Δ = 2^⌈log2(Y / codes)⌉ level steps (a power of two: the shift-add aligns it), Y calibrated per
 * layer at `adc.calibration_percentile` of its conversions on `adc.calibration_samples` training samples,
 * or the full scale min(rows_parallel, piece rows) × (2^cb − 1 + g0). The known off-current g0 × (active
 * rows) is subtracted digitally; slices are shift-added (2^(k·cb)), differential pairs subtracted, planes
 * shift-added (2^k), row pieces summed, then × s × input step, plus the bias (float, digital). Membrane
 * potentials are rounded after every update to `lif_unit.potential_bits` signed fixed point over ±R, R the
 * power of two ≥ max(threshold, the largest |u| seen in calibration), saturating.
 *
 * Devices (`device:`; all seeded by device.seed, fixed per chip instance unless said): programming error
 * G·(1 + σ_p N), stuck-at-off (g0) and stuck-at-on (2^cb − 1 + g0) cells, drift G·(t/t0)^(−ν), ν per cell
 * N(ν, σ_ν); read noise per read and column: + σ_r √(Σ_active G²) N (the sum of independent per-cell
 * relative noise), redrawn every read; first-order IR drop: an active cell at crossbar row i, column j
 * sees V(1 − r_w (Σ_{m} G_im·(min(j, m) + 1) + Σ_{a active} G_aj·(R − max(i, a)))), its row driven from
 * column 0 and its column read at row R (currents of the nominal conductances, first order).
 *
 * Fast path: without device effects, cell levels are small integers; the S·D cells of one weight are
 * packed into one float64 (fields of F bits, S·D·F ≤ 52, F ≥ log2 of the largest column sum), so one add per
 * active row and neuron accumulates every column of the weight exactly; the fields are unpacked per read.
 */
import type { ArchSpec } from '../config/schema.js';
import { mapNetwork, type LayerMapping } from '../chip/mapping.js';
import { inputCodes, rowInputTable, rowPieceOf } from '../chip/rows.js';
import type { NetworkShapes } from '../network/shapes.js';
import { located } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { contentId } from '../util/hash.js';
import type { CompiledNet } from './engine.js';

/** What a chip-arithmetic run models, recorded in eval results and trace headers. */
export interface ChipModelled {
  arch: string;
  arch_hash: string;
  /** Hash of what the arithmetic depends on (chipArithmeticKey). */
  arithmetic_hash: string;
  weight_bits: number;
  weight_scale: string;
  cell_bits: number;
  signed_weights: string;
  rows_parallel: number;
  input_bits: number;
  adc_bits: number;
  adc_range: string;
  adc_percentile: number | null;
  calibration_samples: number;
  potential_bits: number;
  device: Record<string, number | boolean>;
  /** Layers computed in float because the chip does not map them (SpikeSim accounting). */
  float_layers: string[];
}

interface HwLayer {
  name: string;
  lm: LayerMapping;
  /** Engine stage geometry. */
  P: number;
  cout: number;
  cpg: number;
  rowsPerGroup: number;
  rowsTotal: number;
  inSize: number;
  /** Row pieces: [pieceFirst[i], pieceEnd[i]) of the im2col rows, its group. */
  pieces: number;
  pieceFirst: Int32Array;
  pieceEnd: Int32Array;
  pieceGroup: Int32Array;
  /** im2col row table (P × rowsTotal, −1 padding) and each row's position within its crossbar. */
  rowInput: Int32Array;
  rowLocal: Int32Array;
  /** Physical columns per group: cpg · S · D. */
  PC: number;
  /** Cell conductances (level units) [rowsTotal][PC], and squares (read noise). */
  G: Float32Array;
  G2: Float32Array | null;
  /** Packed levels [rowsTotal][cpg] (fast path) or null. */
  packed: Float64Array | null;
  fieldBits: number;
  /**
   * Integer fast path (fields × F ≤ 32, no off-current): levels packed in 32-bit words, and per field the
   * digital result of each possible column sum: lut[f · (2^F) + y] = ±2^(k·cb) × ADC(y).
   */
  packed32: Int32Array | null;
  lut: Float64Array | null;
  /** Calibration on the integer path: conversions seen per integer column sum (folded into hist). */
  sumCounts: Float64Array | null;
  /** Σ_f lut[f][0]: the digital result of an all-zero read (0 unless the ADC range is offset). */
  lutZero: number;
  /** Weight scale per output channel. */
  scale: Float64Array;
  /** Offset encoding: 2^(b−1) subtracted per active row; else 0. */
  offset: number;
  /** ADC: range Y (level units) and derived step; bipolar when the layer's inputs can be negative. */
  fullScale: number;
  adcRange: number;
  adcStep: number;
  adcLevels: number;
  bipolar: boolean;
  /** Calibration histogram of |conversion| (bins over [0, 4·fullScale]) and its maximum. */
  hist: Float64Array;
  histMax: number;
  /** Membrane fixed point: largest |u| seen, LSB, saturation code. */
  uMax: number;
  uLsb: number;
  uCodes: number;
  threshold: number;
  spiking: boolean;
  /** Counters: row-group reads per plane (the replay's crossbar reads / colSplits), conversions. */
  reads: number;
}

const HIST_BINS = 8192;
/** Distinct input codes a piece may carry for the bucketed reads (more: one pass per plane). */
const MAX_BUCKETS = 16;

/** Per-sample RNG seed of read noise: (device seed, sample index), independent of batching. */
function sampleSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

export class ChipArithmetic {
  readonly spec: ArchSpec;
  readonly layers: (HwLayer | null)[];
  readonly modelled: ChipModelled;
  /** 'calibrate': ADC ideal, potentials in float, ranges recorded; 'run': the chip's arithmetic. */
  mode: 'calibrate' | 'run' = 'calibrate';
  private readonly cb: number;
  private readonly S: number;
  private readonly D: number;
  private readonly g0: number;
  private readonly rp: number;
  private readonly zeroSkip: boolean;
  private readonly readSigma: number;
  private readonly wireR: number;
  /** Conductance of one level step (S), for IR drop. */
  private readonly dG: number;
  private readonly fast: boolean;
  private readRng = new Rng(1);
  // scratch
  private acc = new Float64Array(0);
  private acc2 = new Float64Array(0);
  private accI = new Int32Array(0);
  private pieceRows = new Int32Array(0);
  private pieceCodes = new Int32Array(0);
  private pieceSigns = new Float64Array(0);
  private bucketOf = new Int32Array(0);
  private bucketCode = new Int32Array(MAX_BUCKETS);
  private bucketCount = new Int32Array(MAX_BUCKETS);
  private bucketSums = new Int32Array(0);
  private neuronAcc = new Float64Array(0);
  private posAcc = new Float64Array(0);
  private active = new Int32Array(0);
  private activeSign = new Float64Array(0);
  private codes = new Int32Array(0);
  private signs = new Int8Array(0);
  private calibrated = false;
  /** Straight-through training (snn/train/hw.ts): per neuron of the current position, a conversion clipped. */
  private clipPos = new Uint8Array(0);
  private recordClip = false;
  private clipped = false;

  constructor(net: CompiledNet, spec: ArchSpec, shapes: NetworkShapes, archName: string) {
    this.spec = spec;
    const x = spec.crossbar;
    const dev = spec.device;
    this.cb = x.cell_bits;
    this.S = Math.ceil(x.weight_bits / x.cell_bits);
    this.D = x.signed_weights === 'differential' ? 2 : 1;
    const top = 2 ** this.cb - 1;
    this.g0 = dev.finite_on_off_ratio ? top / (x.hrs_ohm / x.lrs_ohm - 1) : 0;
    this.dG = (1 / x.lrs_ohm - (dev.finite_on_off_ratio ? 1 / x.hrs_ohm : 0)) / top;
    this.rp = x.rows_parallel;
    this.zeroSkip = x.zero_skipping;
    this.readSigma = dev.read_noise_sigma;
    this.wireR = dev.wire_resistance_ohm;
    const perCell =
      dev.programming_sigma > 0 ||
      dev.stuck_at_off_rate > 0 ||
      dev.stuck_at_on_rate > 0 ||
      dev.drift_nu > 0 ||
      dev.drift_nu_sigma > 0;
    this.fast = !perCell && this.readSigma === 0 && this.wireR === 0;
    const mapping = mapNetwork(spec, shapes);
    if (mapping.layers.length !== net.stages.length)
      throw located('the chip mapping and the compiled network disagree on the weighted layers', {
        expected: `${net.stages.length} layers`,
        found: String(mapping.layers.length),
      });
    const chipRng = new Rng(dev.seed >>> 0);
    const floatLayers: string[] = [];
    this.layers = net.stages.map((st, l) => {
      const lm = mapping.layers[l];
      if (lm.excluded !== null) {
        floatLayers.push(st.name);
        return null;
      }
      return this.buildLayer(st, lm, chipRng);
    });
    let maxPC = 0;
    let maxCout = 0;
    let maxRows = 0;
    let maxIn = 0;
    for (const hl of this.layers)
      if (hl) {
        maxPC = Math.max(maxPC, hl.PC);
        maxCout = Math.max(maxCout, hl.cout);
        maxRows = Math.max(maxRows, x.rows);
        maxIn = Math.max(maxIn, hl.inSize);
      }
    this.acc = new Float64Array(maxPC);
    this.acc2 = new Float64Array(maxPC);
    this.accI = new Int32Array(maxPC);
    this.pieceRows = new Int32Array(maxRows);
    this.pieceCodes = new Int32Array(maxRows);
    this.pieceSigns = new Float64Array(maxRows);
    this.bucketOf = new Int32Array(maxRows);
    this.bucketSums = new Int32Array(MAX_BUCKETS * maxCout);
    this.neuronAcc = new Float64Array(maxCout);
    this.clipPos = new Uint8Array(maxCout);
    this.posAcc = new Float64Array(maxCout);
    this.active = new Int32Array(maxRows);
    this.activeSign = new Float64Array(maxRows);
    this.codes = new Int32Array(maxIn);
    this.signs = new Int8Array(maxIn);
    this.modelled = {
      arch: archName,
      arch_hash: contentId(spec),
      arithmetic_hash: chipArithmeticHash(spec),
      weight_bits: x.weight_bits,
      weight_scale: x.weight_scale,
      cell_bits: x.cell_bits,
      signed_weights: x.signed_weights,
      rows_parallel: x.rows_parallel,
      input_bits: x.input_bits,
      adc_bits: spec.adc.bits,
      adc_range: spec.adc.range,
      adc_percentile: spec.adc.range === 'calibrated' ? spec.adc.calibration_percentile : null,
      calibration_samples: spec.adc.calibration_samples,
      potential_bits: spec.lif_unit.potential_bits,
      device: { ...dev },
      float_layers: floatLayers,
    };
  }

  private buildLayer(st: CompiledNet['stages'][number], lm: LayerMapping, rng: Rng): HwLayer {
    const spec = this.spec;
    const x = spec.crossbar;
    const dev = spec.device;
    const { S, D, cb } = this;
    const top = 2 ** cb - 1;
    const l = lm.layer;
    const R = x.rows;
    const rowsTotal = l.rows * l.groups;
    const cpg = st.cpg;
    const PC = cpg * S * D;
    const pieces = l.groups * lm.rowSplits;
    const pieceFirst = new Int32Array(pieces).fill(-1);
    const pieceEnd = new Int32Array(pieces);
    const pieceGroup = new Int32Array(pieces);
    const rowLocal = new Int32Array(rowsTotal);
    let prev = -1;
    for (let r = 0; r < rowsTotal; r++) {
      const piece = rowPieceOf(lm, R, r);
      if (pieceFirst[piece] < 0) pieceFirst[piece] = r;
      else if (piece !== prev)
        throw located('a row piece is not a contiguous block of rows', { path: st.name, found: `row ${r}` });
      pieceEnd[piece] = r + 1;
      pieceGroup[piece] = Math.floor(r / l.rows);
      rowLocal[r] = r - pieceFirst[piece];
      prev = piece;
    }
    let maxPieceRows = 0;
    for (let i = 0; i < pieces; i++) maxPieceRows = Math.max(maxPieceRows, pieceEnd[i] - pieceFirst[i]);
    // Weight scales.
    const wbits = x.weight_bits;
    const perChannel = x.weight_scale === 'per-channel';
    const cout = st.cout;
    const wt = st.wt;
    const absMax = new Float64Array(perChannel ? cout : 1);
    const posMax = new Float64Array(perChannel ? cout : 1);
    const rowsPg = l.rows;
    for (let r = 0; r < rowsTotal; r++) {
      const g = Math.floor(r / rowsPg);
      for (let ol = 0; ol < cpg; ol++) {
        const w = wt[r * cpg + ol];
        const k = perChannel ? g * cpg + ol : 0;
        if (Math.abs(w) > absMax[k]) absMax[k] = Math.abs(w);
        if (w > posMax[k]) posMax[k] = w;
      }
    }
    const qTop = 2 ** wbits - 1;
    const half = 2 ** (wbits - 1);
    const scaleOf = (k: number): number => {
      const m = x.signed_weights === 'unsigned' ? posMax[k] : absMax[k];
      const div = x.signed_weights === 'offset' ? Math.max(1, half - 1) : qTop;
      return m > 0 ? m / div : 1;
    };
    const scale = new Float64Array(cout);
    for (let o = 0; o < cout; o++) scale[o] = scaleOf(perChannel ? o : 0);
    // Levels per physical column, then conductances with the chip instance's device effects.
    const G = new Float32Array(rowsTotal * PC);
    const levelMask = top;
    for (let r = 0; r < rowsTotal; r++) {
      const g = Math.floor(r / rowsPg);
      for (let ol = 0; ol < cpg; ol++) {
        const o = g * cpg + ol;
        const w = wt[r * cpg + ol];
        const s = scale[o];
        let pos = 0;
        let neg = 0;
        if (x.signed_weights === 'differential') {
          const q = Math.min(qTop, Math.round(Math.abs(w) / s));
          if (w > 0) pos = q;
          else neg = q;
        } else if (x.signed_weights === 'offset') {
          const q = Math.max(-half, Math.min(half - 1, Math.round(w / s)));
          pos = q + half;
        } else pos = Math.max(0, Math.min(qTop, Math.round(w / s)));
        for (let k = 0; k < S; k++) {
          const base = r * PC + (ol * S + k) * D;
          G[base] = (pos >> (k * cb)) & levelMask;
          if (D === 2) G[base + 1] = (neg >> (k * cb)) & levelMask;
        }
      }
    }
    // Packed fast path: F bits per field must hold the largest column sum of one read.
    const maxSum = Math.min(this.rp, maxPieceRows) * top;
    const fieldBits = Math.max(1, Math.ceil(Math.log2(maxSum + 1)));
    let packed: Float64Array | null = null;
    if (this.fast && S * D * fieldBits <= 52) {
      packed = new Float64Array(rowsTotal * cpg);
      for (let r = 0; r < rowsTotal; r++)
        for (let ol = 0; ol < cpg; ol++) {
          let v = 0;
          for (let f = 0; f < S * D; f++) v += G[r * PC + ol * S * D + f] * 2 ** (fieldBits * f);
          packed[r * cpg + ol] = v;
        }
    }
    // Device effects (per cell, fixed per chip instance), in level units with the off conductance g0.
    const g0 = this.g0;
    const driftBase = dev.drift_time_s / dev.drift_t0_s;
    for (let i = 0; i < G.length; i++) {
      let g = G[i] + g0;
      if (dev.stuck_at_off_rate > 0 || dev.stuck_at_on_rate > 0) {
        const u = rng.next();
        if (u < dev.stuck_at_off_rate) g = g0;
        else if (u < dev.stuck_at_off_rate + dev.stuck_at_on_rate) g = top + g0;
      }
      if (dev.programming_sigma > 0) g = Math.max(0, g * (1 + dev.programming_sigma * rng.normal()));
      if (dev.drift_nu > 0 || dev.drift_nu_sigma > 0) {
        const nu = dev.drift_nu + dev.drift_nu_sigma * rng.normal();
        g *= driftBase ** -nu;
      }
      G[i] = g;
    }
    let packed32: Int32Array | null = null;
    if (packed && g0 === 0 && S * D * fieldBits <= 32) {
      packed32 = new Int32Array(rowsTotal * cpg);
      for (let r = 0; r < rowsTotal; r++)
        for (let ol = 0; ol < cpg; ol++) {
          let v = 0;
          for (let f = 0; f < S * D; f++) v |= G[r * PC + ol * S * D + f] << (fieldBits * f);
          packed32[r * cpg + ol] = v;
        }
    }
    let G2: Float32Array | null = null;
    if (this.readSigma > 0) {
      G2 = new Float32Array(G.length);
      for (let i = 0; i < G.length; i++) G2[i] = G[i] * G[i];
    }
    const fullScale = Math.min(this.rp, maxPieceRows) * (top + g0);
    const neuron = st.neuron;
    return {
      name: st.name,
      lm,
      P: st.ho * st.wo,
      cout,
      cpg,
      rowsPerGroup: rowsPg,
      rowsTotal,
      inSize: st.inSize,
      pieces,
      pieceFirst,
      pieceEnd,
      pieceGroup,
      rowInput: rowInputTable(lm),
      rowLocal,
      PC,
      G,
      G2,
      packed,
      fieldBits,
      packed32,
      lut: null,
      lutZero: 0,
      sumCounts: packed32 ? new Float64Array(2 ** fieldBits) : null,
      scale,
      offset: x.signed_weights === 'offset' ? half : 0,
      fullScale,
      adcRange: fullScale,
      adcStep: 0,
      adcLevels: 2 ** spec.adc.bits - 1,
      bipolar: false,
      hist: new Float64Array(HIST_BINS),
      histMax: 0,
      uMax: 0,
      uLsb: 0,
      uCodes: 2 ** (spec.lif_unit.potential_bits - 1),
      threshold: neuron ? Math.abs(neuron.threshold) : 0,
      spiking: st.spiking,
      reads: 0,
    };
  }

  /** Whether layer l runs on the chip's arithmetic (else the engine computes it in float). */
  onChip(l: number): boolean {
    return this.layers[l] !== null;
  }

  /** Whether each layer's input is spikes (one plane) or multi-bit values (input_bits planes), per run. */
  private binaryInput: boolean[] = [];

  /**
   * Starts a sample: the input kind of every layer (the engine's, as the trace records it for the
   * replay), and read noise from a stream of (device seed, sample index).
   */
  beginSample(index: number, binaryInput: boolean[]): void {
    this.binaryInput = binaryInput;
    if (this.readSigma > 0) this.readRng = new Rng(sampleSeed(this.spec.device.seed, index));
  }

  /** Ends calibration: ADC ranges from the recorded conversions, potential ranges from the recorded |u|. */
  finishCalibration(): void {
    const spec = this.spec;
    const pbits = spec.lif_unit.potential_bits;
    for (const hl of this.layers) {
      if (!hl) continue;
      if (hl.sumCounts) {
        for (let y = 0; y < hl.sumCounts.length; y++) {
          const c = hl.sumCounts[y];
          if (c === 0) continue;
          if (y > hl.histMax) hl.histMax = y;
          let b = Math.floor((y / (4 * hl.fullScale)) * HIST_BINS);
          if (b >= HIST_BINS) b = HIST_BINS - 1;
          hl.hist[b] += c;
        }
        hl.sumCounts.fill(0);
      }
      let y = hl.fullScale;
      if (spec.adc.range === 'calibrated') {
        let total = 0;
        for (let b = 0; b < HIST_BINS; b++) total += hl.hist[b];
        const pct = spec.adc.calibration_percentile;
        if (total > 0) {
          if (pct >= 100) y = hl.histMax;
          else {
            const want = (pct / 100) * total;
            const width = (4 * hl.fullScale) / HIST_BINS;
            let cum = 0;
            let b = 0;
            for (; b < HIST_BINS; b++) {
              cum += hl.hist[b];
              if (cum >= want) break;
            }
            y = Math.min(hl.histMax, (b + 1) * width);
          }
        }
        if (!(y > 0)) y = hl.fullScale;
      }
      this.applyRange(hl, y, pbits);
    }
    this.calibrated = true;
    this.mode = 'run';
  }

  /** The ADC range y (level units) of a layer, its code step and tables; the potential fixed point. */
  private applyRange(hl: HwLayer, y: number, pbits: number): void {
    const spec = this.spec;
    hl.adcRange = y;
    hl.adcLevels = hl.bipolar ? 2 ** (spec.adc.bits - 1) - 1 : 2 ** spec.adc.bits - 1;
    if (hl.adcLevels < 1) hl.adcLevels = 1;
    hl.adcStep = 2 ** Math.ceil(Math.log2(y / hl.adcLevels));
    hl.lutZero = 0;
    if (hl.packed32) {
      const F = 2 ** hl.fieldBits;
      const fields = this.S * this.D;
      hl.lut = new Float64Array(fields * F);
      for (let f = 0; f < fields; f++) {
        const k = this.D === 2 ? f >> 1 : f;
        const sign = this.D === 2 && (f & 1) === 1 ? -1 : 1;
        for (let v = 0; v < F; v++) hl.lut[f * F + v] = sign * 2 ** (k * this.cb) * this.adc(hl, v);
        hl.lutZero += hl.lut[f * F];
      }
    }
    const r = Math.max(hl.uMax, hl.threshold, 2 ** -30);
    hl.uLsb = 2 ** Math.ceil(Math.log2(r)) / 2 ** (pbits - 1);
  }

  /**
   * Takes another instance's calibration (ADC ranges in level units, input polarity, potential ranges)
   * instead of calibrating: the trainer (snn/train/hw.ts) rebuilds the chip for every batch's weights and
   * programming noise and keeps the ranges calibrated at the start of the epoch. Same network geometry.
   */
  adoptCalibration(from: ChipArithmetic): void {
    const pbits = this.spec.lif_unit.potential_bits;
    this.layers.forEach((hl, l) => {
      const src = from.layers[l];
      if (!hl || !src)
        throw located('calibration from a chip of another mapping', { path: hl?.name ?? String(l) });
      hl.bipolar = src.bipolar;
      hl.uMax = src.uMax;
      this.applyRange(hl, src.adcRange, pbits);
    });
    this.calibrated = true;
    this.mode = 'run';
  }

  /** ADC ranges chosen (level units) and code steps, per mapped layer (reports, tests). */
  adcRanges(): Array<{
    layer: string;
    range: number;
    step: number;
    levels: number;
    bipolar: boolean;
  } | null> {
    return this.layers.map((hl) =>
      hl
        ? { layer: hl.name, range: hl.adcRange, step: hl.adcStep, levels: hl.adcLevels, bipolar: hl.bipolar }
        : null,
    );
  }

  /** Row-group reads performed per layer since construction (tests compare them with the replay). */
  readCounts(): number[] {
    return this.layers.map((hl) => (hl ? hl.reads : 0));
  }

  resetReadCounts(): void {
    for (const hl of this.layers) if (hl) hl.reads = 0;
  }

  /**
   * Membrane potentials after a layer's update: rounded to the LIF unit's fixed point (run), or their
   * largest magnitude recorded (calibration).
   */
  afterStep(l: number, u: Float32Array): void {
    const hl = this.layers[l];
    if (!hl || !hl.spiking) return;
    const n = u.length;
    if (this.mode === 'calibrate') {
      let m = hl.uMax;
      for (let i = 0; i < n; i++) {
        const a = Math.abs(u[i]);
        if (a > m) m = a;
      }
      hl.uMax = m;
      return;
    }
    const lsb = hl.uLsb;
    const hi = hl.uCodes - 1;
    const lo = -hl.uCodes;
    for (let i = 0; i < n; i++) {
      let q = Math.round(u[i] / lsb);
      if (q > hi) q = hi;
      else if (q < lo) q = lo;
      u[i] = q * lsb;
    }
  }

  /**
   * One mapped layer at one timestep on the chip: adds the layer's output (before the neurons) into
   * `out` (which holds the bias), [cout][positions]. Returns the synaptic operations (active rows × fan-out).
   */
  forward(l: number, x: Float32Array, out: Float32Array, clip?: Uint8Array): number {
    const hl = this.layers[l]!;
    this.recordClip = clip !== undefined && this.mode === 'run';
    if (this.mode === 'run' && !this.calibrated)
      throw located('the chip arithmetic ran before calibration', { path: hl.name });
    const spec = this.spec;
    const binaryBits = spec.crossbar.input_bits;
    // Input codes and signs: spikes are 1; multi-bit inputs take the per-frame quantiser.
    const n = hl.inSize;
    const codes = this.codes;
    const signs = this.signs;
    const binary = this.binaryInput[l] ?? false;
    let step = 1;
    let planes = 1;
    let anyNeg = false;
    if (binary) {
      for (let i = 0; i < n; i++) {
        codes[i] = x[i] !== 0 ? 1 : 0;
        signs[i] = 1;
      }
    } else {
      step = inputCodes(x, n, binaryBits, codes);
      planes = binaryBits;
      for (let i = 0; i < n; i++) {
        const neg = x[i] < 0;
        signs[i] = neg ? -1 : 1;
        if (neg && codes[i] !== 0) anyNeg = true;
      }
      if (anyNeg && this.mode === 'calibrate') hl.bipolar = true;
    }
    const { P, cout, cpg, rowsTotal, pieces, pieceFirst, pieceEnd, pieceGroup, rowInput } = hl;
    const posAcc = this.posAcc;
    const pieceRows = this.pieceRows;
    const pieceCodes = this.pieceCodes;
    const pieceSigns = this.pieceSigns;
    // Multi-bit inputs on the integer path, one read per plane (a piece no larger than rows_parallel):
    // rows are summed once per distinct input code, each plane's column sums from the codes with its bit.
    const bucketed =
      planes > 1 && !anyNeg && hl.packed32 !== null && (hl.lut !== null || this.mode === 'calibrate');
    let synops = 0;
    const clipPos = this.clipPos;
    for (let p = 0; p < P; p++) {
      posAcc.fill(0, 0, cout);
      if (this.recordClip) clipPos.fill(0, 0, cout);
      const rowBase = p * rowsTotal;
      for (let i = 0; i < pieces; i++) {
        const a = pieceFirst[i];
        const b = pieceEnd[i];
        for (let r = a; r < b; r++) {
          const e = rowInput[rowBase + r];
          if (e >= 0 && x[e] !== 0) synops += cpg;
        }
        const g = pieceGroup[i];
        if (this.zeroSkip) {
          // The piece's rows with a non-zero input, in row order, once; each plane takes its own from them.
          let nz = 0;
          for (let r = a; r < b; r++) {
            const e = rowInput[rowBase + r];
            if (e >= 0 && codes[e] !== 0) {
              pieceRows[nz] = r;
              pieceCodes[nz] = codes[e];
              pieceSigns[nz] = signs[e];
              nz++;
            }
          }
          if (nz === 0) continue;
          if (bucketed && b - a <= this.rp && this.readBuckets(hl, g, nz, planes)) continue;
          for (let k = 0; k < planes; k++) {
            const bit = 1 << k;
            const weight = 2 ** k;
            let na = 0;
            for (let j = 0; j < nz; j++)
              if ((pieceCodes[j] & bit) !== 0) {
                this.active[na] = pieceRows[j];
                this.activeSign[na] = pieceSigns[j];
                na++;
                if (na === this.rp) {
                  this.read(hl, g, na, anyNeg, weight);
                  na = 0;
                }
              }
            if (na > 0) this.read(hl, g, na, anyNeg, weight);
          }
        } else
          for (let k = 0; k < planes; k++) {
            const bit = 1 << k;
            const weight = 2 ** k;
            // Every row is scheduled: fixed blocks of rows_parallel rows, inactive rows driving nothing.
            for (let r0 = a; r0 < b; r0 += this.rp) {
              let na = 0;
              const r1 = Math.min(b, r0 + this.rp);
              for (let r = r0; r < r1; r++) {
                const e = rowInput[rowBase + r];
                if (e >= 0 && (codes[e] & bit) !== 0) {
                  this.active[na] = r;
                  this.activeSign[na] = signs[e];
                  na++;
                }
              }
              this.read(hl, g, na, anyNeg, weight);
            }
          }
      }
      // Rescale and add into the output (channel-major), once per position.
      for (let o = 0; o < cout; o++) {
        const v = posAcc[o];
        if (v !== 0) out[o * P + p] += v * hl.scale[o] * step;
      }
      if (clip) for (let o = 0; o < cout; o++) clip[o * P + p] = this.recordClip ? clipPos[o] : 0;
    }
    this.recordClip = false;
    return synops;
  }

  /** One read of `na` active rows (this.active) of group g; adds 2^k × its digital result to posAcc. */
  private read(hl: HwLayer, g: number, na: number, signed: boolean, weight: number): void {
    hl.reads++;
    if (na === 0) return;
    const { S, D, cb, g0 } = this;
    const cpg = hl.cpg;
    const active = this.active;
    const sgn = this.activeSign;
    const posAcc = this.posAcc;
    const oBase = g * cpg;
    let nSigned = 0;
    for (let a = 0; a < na; a++) nSigned += sgn[a];
    const offCurrent = g0 * nSigned;
    const offsetCorr = hl.offset * nSigned;
    const ideal = this.mode === 'calibrate';
    if (hl.packed32 && (hl.lut || ideal) && !signed) {
      // Integer levels packed in 32-bit words: one add per row and neuron, one table look-up per field.
      const packed = hl.packed32!;
      const lut = hl.lut;
      const accI = this.accI;
      accI.fill(0, 0, cpg);
      for (let a = 0; a < na; a++) {
        const base = active[a] * cpg;
        for (let ol = 0; ol < cpg; ol++) accI[ol] = (accI[ol] + packed[base + ol]) | 0;
      }
      if (ideal) this.unpackIdeal(hl, accI, oBase, weight, offsetCorr);
      else this.unpackLut(hl, accI, oBase, weight, offsetCorr);
      return;
    }
    if (hl.packed && !signed) {
      // Exact integer levels, one add per row and neuron; unpack the fields per read.
      const packed = hl.packed;
      const accP = this.acc;
      accP.fill(0, 0, cpg);
      for (let a = 0; a < na; a++) {
        const base = active[a] * cpg;
        for (let ol = 0; ol < cpg; ol++) accP[ol] += packed[base + ol];
      }
      const F = 2 ** hl.fieldBits;
      const fields = S * D;
      for (let ol = 0; ol < cpg; ol++) {
        let v = accP[ol];
        let value = 0;
        for (let f = 0; f < fields; f++) {
          const hi = Math.floor(v / F);
          const y = v - hi * F;
          v = hi;
          const k = D === 2 ? f >> 1 : f;
          const neg = D === 2 && (f & 1) === 1;
          const yc = (ideal ? this.record(hl, y + offCurrent) : this.adc(hl, y + offCurrent)) - offCurrent;
          value += (neg ? -yc : yc) * 2 ** (k * cb);
        }
        posAcc[oBase + ol] += (value - offsetCorr) * weight;
        if (this.clipped) {
          this.clipPos[oBase + ol] = 1;
          this.clipped = false;
        }
      }
      return;
    }
    // General path: conductances with device effects, read noise, IR drop.
    const PC = hl.PC;
    const G = hl.G;
    const acc = this.acc;
    acc.fill(0, 0, PC);
    if (this.wireR > 0) this.irDropRead(hl, na);
    else
      for (let a = 0; a < na; a++) {
        const base = active[a] * PC;
        const s = sgn[a];
        if (s === 1) for (let c = 0; c < PC; c++) acc[c] += G[base + c];
        else for (let c = 0; c < PC; c++) acc[c] -= G[base + c];
      }
    if (hl.G2) {
      const acc2 = this.acc2;
      const G2 = hl.G2;
      acc2.fill(0, 0, PC);
      for (let a = 0; a < na; a++) {
        const base = active[a] * PC;
        for (let c = 0; c < PC; c++) acc2[c] += G2[base + c];
      }
      const sigma = this.readSigma;
      for (let c = 0; c < PC; c++) acc[c] += sigma * Math.sqrt(acc2[c]) * this.readRng.normal();
    }
    for (let ol = 0; ol < cpg; ol++) {
      let value = 0;
      for (let k = 0; k < S; k++) {
        const c = (ol * S + k) * D;
        const yp = (ideal ? this.record(hl, acc[c]) : this.adc(hl, acc[c])) - offCurrent;
        let y = yp;
        if (D === 2) y -= (ideal ? this.record(hl, acc[c + 1]) : this.adc(hl, acc[c + 1])) - offCurrent;
        value += y * 2 ** (k * cb);
      }
      posAcc[oBase + ol] += (value - offsetCorr) * weight;
      if (this.clipped) {
        this.clipPos[oBase + ol] = 1;
        this.clipped = false;
      }
    }
  }

  /**
   * First-order IR drop: each active cell's current is its conductance times (1 − r_w × the wire
   * resistance drops, in units of V·ΔG): along its row from the driver at column 0 (segment m carries the
   * currents of the cells at columns ≥ m) and along its column to the readout below row R − 1 (the segment
   * below row k carries the currents of the active cells at rows ≤ k). Columns are the crossbar's
   * physical columns (the layer's columns split in column pieces of neuronsPerCrossbar weights).
   */
  private irDropRead(hl: HwLayer, na: number): void {
    const G = hl.G;
    const PC = hl.PC;
    const acc = this.acc;
    const active = this.active;
    const sgn = this.activeSign;
    const R = this.spec.crossbar.rows;
    const rw = this.wireR * this.dG;
    const perXbar = hl.lm.neuronsPerCrossbar * this.S * this.D;
    const width = Math.min(perXbar, PC);
    const colDrop = new Float64Array(na * width);
    const rowDrop = new Float64Array(width);
    for (let c0 = 0; c0 < PC; c0 += perXbar) {
      const c1 = Math.min(PC, c0 + perXbar);
      const wd = c1 - c0;
      // Column drop of active row a at column c: Σ_b G_bc (R − max(i_a, i_b)), rows in crossbar order.
      for (let c = c0; c < c1; c++) {
        let below = 0; // Σ_{b > a} G_bc (R − i_b)
        for (let a = 0; a < na; a++) below += G[active[a] * PC + c] * (R - hl.rowLocal[active[a]]);
        let above = 0; // Σ_{b ≤ a} G_bc
        for (let a = 0; a < na; a++) {
          const gAc = G[active[a] * PC + c];
          const ia = hl.rowLocal[active[a]];
          above += gAc;
          below -= gAc * (R - ia);
          colDrop[a * width + (c - c0)] = above * (R - ia) + below;
        }
      }
      // Row drop of active row a at column j: Σ_m G_am (min(j, m) + 1) = Σ_{m≤j} G_am (m + 1) + (j + 1) Σ_{m>j} G_am.
      for (let a = 0; a < na; a++) {
        const rowBase = active[a] * PC + c0;
        let total = 0;
        for (let m = 0; m < wd; m++) total += G[rowBase + m];
        let weighted = 0;
        let prefix = 0;
        for (let j = 0; j < wd; j++) {
          const gj = G[rowBase + j];
          weighted += gj * (j + 1);
          prefix += gj;
          rowDrop[j] = weighted + (j + 1) * (total - prefix);
        }
        const s = sgn[a];
        for (let j = 0; j < wd; j++) {
          const att = Math.max(0, 1 - rw * (rowDrop[j] + colDrop[a * width + j]));
          acc[c0 + j] += s * G[rowBase + j] * att;
        }
      }
    }
  }

  /**
   * The reads of one piece (every plane one read: the piece holds ≤ rows_parallel rows) when its active
   * rows carry at most MAX_BUCKETS distinct codes: rows are summed once per code (integer, packed), and the
   * column sums of plane k are the sum over codes with bit k set — the same integers the per-plane reads
   * accumulate, so the same ADC results. Returns false (nothing done) when there are more codes.
   */
  private readBuckets(hl: HwLayer, g: number, nz: number, planes: number): boolean {
    const rowsOf = this.pieceRows;
    const codesOf = this.pieceCodes;
    const bucketCode = this.bucketCode;
    const bucketCount = this.bucketCount;
    let nb = 0;
    const which = this.bucketOf;
    for (let j = 0; j < nz; j++) {
      const c = codesOf[j];
      let bi = 0;
      while (bi < nb && bucketCode[bi] !== c) bi++;
      if (bi === nb) {
        if (nb === MAX_BUCKETS) return false;
        bucketCode[nb] = c;
        bucketCount[nb] = 0;
        nb++;
      }
      bucketCount[bi]++;
      which[j] = bi;
    }
    const cpg = hl.cpg;
    const packed = hl.packed32!;
    const sums = this.bucketSums;
    sums.fill(0, 0, nb * cpg);
    for (let j = 0; j < nz; j++) {
      const base = rowsOf[j] * cpg;
      const o = which[j] * cpg;
      for (let ol = 0; ol < cpg; ol++) sums[o + ol] = (sums[o + ol] + packed[base + ol]) | 0;
    }
    const accI = this.accI;
    const oBase = g * cpg;
    for (let k = 0; k < planes; k++) {
      const bit = 1 << k;
      let na = 0;
      let first = true;
      for (let bi = 0; bi < nb; bi++)
        if ((bucketCode[bi] & bit) !== 0) {
          na += bucketCount[bi];
          const o = bi * cpg;
          if (first) {
            for (let ol = 0; ol < cpg; ol++) accI[ol] = sums[o + ol];
            first = false;
          } else for (let ol = 0; ol < cpg; ol++) accI[ol] = (accI[ol] + sums[o + ol]) | 0;
        }
      if (na === 0) continue;
      hl.reads++;
      if (this.mode === 'calibrate') this.unpackIdeal(hl, accI, oBase, 2 ** k, hl.offset * na);
      else this.unpackLut(hl, accI, oBase, 2 ** k, hl.offset * na);
    }
    return true;
  }

  /** Calibration on the integer path: the ADC is ideal; every conversion's sum is counted. */
  private unpackIdeal(
    hl: HwLayer,
    accI: Int32Array,
    oBase: number,
    weight: number,
    offsetCorr: number,
  ): void {
    const { S, D, cb } = this;
    const cpg = hl.cpg;
    const counts = hl.sumCounts!;
    const posAcc = this.posAcc;
    const F = hl.fieldBits;
    const mask = (1 << F) - 1;
    const fields = S * D;
    for (let ol = 0; ol < cpg; ol++) {
      const v = accI[ol];
      if (v === 0) {
        counts[0] += fields;
        continue;
      }
      let value = 0;
      for (let f = 0; f < fields; f++) {
        const y = (v >>> (f * F)) & mask;
        counts[y]++;
        const k = D === 2 ? f >> 1 : f;
        value += (D === 2 && (f & 1) === 1 ? -y : y) * 2 ** (k * cb);
      }
      posAcc[oBase + ol] += value * weight;
    }
    if (offsetCorr !== 0) for (let ol = 0; ol < cpg; ol++) posAcc[oBase + ol] -= offsetCorr * weight;
  }

  /**
   * The digital result of one read on the integer path: each neuron's packed column sums (accI) through
   * the ADC tables, shift-added, × the plane weight, into posAcc (offset correction included).
   */
  private unpackLut(hl: HwLayer, accI: Int32Array, oBase: number, weight: number, offsetCorr: number): void {
    const cpg = hl.cpg;
    const lut = hl.lut!;
    const posAcc = this.posAcc;
    const F = hl.fieldBits;
    const mask = (1 << F) - 1;
    const fields = this.S * this.D;
    const zero = hl.lutZero;
    if (this.recordClip) {
      // A field's column sum y clips when its code exceeds the range (y ≥ 0 on this path).
      const st = hl.adcStep;
      const top = hl.adcLevels;
      for (let ol = 0; ol < cpg; ol++) {
        const v = accI[ol];
        if (v === 0) continue;
        for (let f = 0; f < fields; f++)
          if (Math.round(((v >>> (f * F)) & mask) / st) > top) {
            this.clipPos[oBase + ol] = 1;
            break;
          }
      }
    }
    if (fields === 4)
      for (let ol = 0; ol < cpg; ol++) {
        const v = accI[ol];
        if (v === 0) {
          if (zero !== 0) posAcc[oBase + ol] += zero * weight;
          continue;
        }
        const value =
          lut[v & mask] +
          lut[(1 << F) + ((v >>> F) & mask)] +
          lut[(2 << F) + ((v >>> (2 * F)) & mask)] +
          lut[(3 << F) + ((v >>> (3 * F)) & mask)];
        posAcc[oBase + ol] += value * weight;
      }
    else
      for (let ol = 0; ol < cpg; ol++) {
        const v = accI[ol];
        let value = zero;
        if (v !== 0) {
          value = 0;
          for (let f = 0; f < fields; f++) value += lut[(f << F) + ((v >>> (f * F)) & mask)];
        } else if (zero === 0) continue;
        posAcc[oBase + ol] += value * weight;
      }
    if (offsetCorr !== 0) for (let ol = 0; ol < cpg; ol++) posAcc[oBase + ol] -= offsetCorr * weight;
  }

  /** The ADC: y (level units) to its code × step, clipped to the layer's range. */
  private adc(hl: HwLayer, y: number): number {
    const st = hl.adcStep;
    let code = Math.round(y / st);
    const top = hl.adcLevels;
    if (code > top) {
      code = top;
      this.clipped = this.recordClip;
    } else if (code < (hl.bipolar ? -top : 0)) {
      code = hl.bipolar ? -top : 0;
      this.clipped = this.recordClip;
    }
    return code * st;
  }

  /** Calibration: the conversion is ideal; its magnitude goes into the layer's histogram. */
  private record(hl: HwLayer, y: number): number {
    const a = Math.abs(y);
    if (a > hl.histMax) hl.histMax = a;
    let b = Math.floor((a / (4 * hl.fullScale)) * HIST_BINS);
    if (b >= HIST_BINS) b = HIST_BINS - 1;
    hl.hist[b]++;
    return y;
  }
}

/**
 * What the chip's arithmetic depends on (crossbar geometry and precision, ADC, LIF width, devices,
 * mapping): two chips with the same hash compute the same spikes. Sweeps cache traces by it.
 */
export function chipArithmeticKey(spec: ArchSpec): Record<string, unknown> {
  const x = spec.crossbar;
  return {
    crossbar: {
      rows: x.rows,
      columns: x.columns,
      cell_bits: x.cell_bits,
      weight_bits: x.weight_bits,
      weight_scale: x.weight_scale,
      signed_weights: x.signed_weights,
      rows_parallel: x.rows_parallel,
      zero_skipping: x.zero_skipping,
      input_bits: x.input_bits,
      lrs_ohm: x.lrs_ohm,
      hrs_ohm: x.hrs_ohm,
    },
    adc: {
      bits: spec.adc.bits,
      range: spec.adc.range,
      calibration_percentile: spec.adc.calibration_percentile,
      calibration_samples: spec.adc.calibration_samples,
    },
    potential_bits: spec.lif_unit.potential_bits,
    device: spec.device,
    mapping: spec.mapping.scheme,
    accounting: spec.accounting,
  };
}

export function chipArithmeticHash(spec: ArchSpec): string {
  return contentId(chipArithmeticKey(spec));
}
