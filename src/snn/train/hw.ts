/**
 * Hardware-aware training (`imcsim train --arch A`), as aihwkit's analog tiles and NeuroSim's
 * quantisation-aware training do it: the forward pass of every mapped layer is the chip's own arithmetic
 * (snn/chip-arith.ts, the same code `eval --arch` runs — weights quantised to crossbar.weight_bits with its
 * scale rule, sliced over cells, each column's partial sum through the ADC of adc.bits over the layer's
 * calibrated range, device effects), so nothing of the chip's rules is restated here. The backward pass
 * is straight-through: the gradient of a layer's output is passed unchanged to the float weights and
 * inputs (∂ŵ/∂w = 1, ∂ADC(y)/∂y = 1) where none of the output's conversions clipped, and is zero where
 * one did (the clipped code does not move with y).
 *
 * Programming noise (device.programming_sigma, with every other per-cell device effect) is drawn again
 * for every batch: the chip is re-programmed with the batch's current weights and a device seed mixed
 * from the batch's seed, so a run is deterministic given --seed. ADC and potential ranges are calibrated
 * on the chip's own rule (adc.calibration_samples of the training split) at the start of every epoch on
 * the weights of that moment and kept through the epoch (ChipArithmetic.adoptCalibration).
 *
 * Not modelled in training: membrane potentials are not rounded to lif_unit.potential_bits (the neurons
 * stay float; inference under --arch rounds them).
 */
import { ChipArithmetic } from '../chip-arith.js';
import { compileModel } from '../engine.js';
import { prepareEngine, type ChipRunOptions } from '../run.js';
import type { TracePolicy } from '../../trace/types.js';
import type { TrainNet } from './net.js';

export class ChipTraining {
  private calibrated: ChipArithmetic | null = null;
  private binary: boolean[] = [];
  /** The chip of the current batch (tests). */
  chip: ChipArithmetic | null = null;

  constructor(
    readonly net: TrainNet,
    readonly opts: ChipRunOptions,
  ) {}

  /** Calibrates ADC and potential ranges on the current weights, by the chip arithmetic's own rule. */
  calibrate(): void {
    const policy: TracePolicy = { name: 'static', timesteps: this.net.timesteps };
    const { engine, chip } = prepareEngine(this.net.model, {
      policy,
      encoding: this.net.encoding,
      chip: this.opts,
    });
    this.calibrated = chip;
    this.binary = engine.inputKinds(this.net.encoding, policy).map((k) => k === 'spikes');
  }

  /**
   * Programs the chip with the current weights (device effects drawn from `deviceSeed`) and routes every
   * mapped layer's forward pass through it until detach().
   */
  beginBatch(deviceSeed: number): ChipArithmetic {
    if (!this.calibrated) this.calibrate();
    const spec = { ...this.opts.spec, device: { ...this.opts.spec.device, seed: deviceSeed >>> 0 } };
    const model = this.net.model;
    const chip = new ChipArithmetic(compileModel(model), spec, model.shapes, this.opts.name);
    chip.adoptCalibration(this.calibrated!);
    chip.beginSample(deviceSeed >>> 0, this.binary);
    this.net.weighted.forEach((w, l) => {
      w.conv.hw = chip.onChip(l) ? { chip, layer: l } : null;
    });
    this.chip = chip;
    return chip;
  }

  /** Back to the float forward (evaluation, the next epoch's calibration). */
  detach(): void {
    for (const w of this.net.weighted) w.conv.hw = null;
    this.chip = null;
  }

  /** Starts an epoch: ranges recalibrated on the weights of now. */
  beginEpoch(): void {
    this.detach();
    this.calibrate();
  }
}
