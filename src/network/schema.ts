/**
 * Network topology files (models/<name>/network.yaml): layers with type, shapes, kernel, stride, padding,
 * pooling and neuron parameters. The SNN engine loads weights into this same format.
 */
import { z } from 'zod';

/**
 * Sanity ranges: far beyond any network imcsim can run, so only a typo or a hostile file hits them
 * (they keep products of sizes inside safe integers; the memory estimate, network/memory.ts, then
 * refuses what would not fit). Timesteps stop at 65535, the trace format's u16 field (docs/TRACE_FORMAT.md).
 */
export const MAX_DIM = 65536; // one input dimension, kernel, stride, padding, dilation
export const MAX_UNITS = 1 << 20; // channels, features, classes, groups
export const MAX_TIMESTEPS = 65535;
export const MAX_LAYERS = 4096;
const posInt = z.number().int().min(1);
const dim = posInt.max(MAX_DIM);
const units = posInt.max(MAX_UNITS);
const steps = posInt.max(MAX_TIMESTEPS);
const nonNegInt = z.number().int().min(0).max(MAX_DIM);
const pair = z.union([dim, z.tuple([dim, dim])]);
const pairNonNeg = z.union([nonNegInt, z.tuple([nonNegInt, nonNegInt])]);

export const NEURON_CONVENTIONS = ['dtsnn', 'iir', 'snntorch', 'spikingjelly', 'norse'] as const;

/**
 * Neuron parameters. Each convention fixes the order of operations of the engine users come from
 * (docs/SOURCES.md §2); the engine follows it in float32, rounding after every operation.
 *   dtsnn:        u = leak·u + x; s = u > threshold; hard: u = u·(1 − s) (to v_reset); soft: u − threshold·s
 *   iir:          u = leak·u + x; s = u/threshold − 1 > 0; u = u − threshold·s (soft)
 *   snntorch:     Leaky: r = H(u − threshold) from the previous u when reset_delay; u = leak·u + x − r·threshold
 *                 (subtract) or zero reset; s = H(u − threshold)
 *   spikingjelly: LIFNode: h = v + (x − (v − v_reset))/tau; s = h ≥ threshold; hard v = s·v_reset + (1 − s)·h,
 *                 soft v = h − s·threshold
 *   norse:        LIFBox: v = v + dt·(1/tau)·((x + v_leak) − v); s = v > threshold; v = (1 − s)·v + s·v_reset
 * model: if ignores the leak (leak = 1, no decay).
 */
export const NeuronSchema = z
  .strictObject({
    model: z
      .enum(['lif', 'if'])
      .meta({ description: 'Leaky or non-leaky integrate-and-fire' })
      .default('lif'),
    convention: z
      .enum(NEURON_CONVENTIONS)
      .meta({
        description: 'Update order and reset rule of the engine the model comes from (docs/SOURCES.md §2)',
      })
      .default('dtsnn'),
    leak: z
      .number()
      .min(0)
      .max(1)
      .meta({ description: 'Leak factor per timestep (β, λ); 1 = no leak (dtsnn, iir, snntorch)' })
      .default(0.5),
    threshold: z.number().positive().meta({ description: 'Firing threshold' }).default(1.0),
    reset: z
      .enum(['hard', 'soft'])
      .meta({ description: 'Hard reset to v_reset, or subtract the threshold' })
      .default('hard'),
    v_reset: z.number().meta({ description: 'Potential after a hard reset' }).default(0),
    tau: z
      .number()
      .positive()
      .meta({ description: 'Membrane time constant: spikingjelly τ (steps), norse τ_mem (s)' })
      .default(2),
    dt: z.number().positive().meta({ description: 'Integration step (s), norse' }).default(1e-3),
    v_leak: z.number().meta({ description: 'Leak (resting) potential, norse' }).default(0),
    reset_delay: z
      .boolean()
      .meta({ description: 'snntorch: reset computed from the previous potential (one step late)' })
      .default(true),
  })
  .meta({ description: 'Neuron parameters' });

const common = {
  name: z.string().min(1).optional(),
};

const weighted = {
  spiking: z.boolean().meta({ description: 'false for the non-spiking output accumulator' }).default(true),
  bias: z.boolean().default(false),
  neuron: NeuronSchema.optional(),
  timesteps: steps
    .optional()
    .meta({ description: 'Per-layer timesteps (LD-SNN); defaults to the network T' }),
};

export const Conv2dSchema = z.strictObject({
  ...common,
  type: z.literal('conv2d'),
  out_channels: units,
  kernel: pair,
  stride: pair.default(1),
  padding: pairNonNeg.default(0),
  dilation: pair.default(1),
  groups: units.default(1),
  ...weighted,
});
export const LinearSchema = z.strictObject({
  ...common,
  type: z.literal('linear'),
  out_features: units,
  ...weighted,
});
const PoolSchema = (t: 'avgpool2d' | 'sumpool2d' | 'maxpool2d') =>
  z.strictObject({
    ...common,
    type: z.literal(t),
    kernel: pair,
    stride: pair.optional(),
    padding: pairNonNeg.default(0),
  });
export const FlattenSchema = z.strictObject({ ...common, type: z.literal('flatten') });
export const BatchNormSchema = z.strictObject({
  ...common,
  type: z.literal('batchnorm'),
  eps: z.number().positive().default(1e-5),
});
export const DropoutSchema = z.strictObject({
  ...common,
  type: z.literal('dropout'),
  p: z.number().min(0).max(1).default(0.5),
});

export const LayerSchema = z.discriminatedUnion('type', [
  Conv2dSchema,
  LinearSchema,
  PoolSchema('avgpool2d'),
  PoolSchema('sumpool2d'),
  PoolSchema('maxpool2d'),
  FlattenSchema,
  BatchNormSchema,
  DropoutSchema,
]);

/** How a network's input reaches its first layer (one list: schema, engine, trace, CLI). */
export const INPUT_ENCODINGS = ['direct', 'rate', 'events'] as const;
export type InputEncoding = (typeof INPUT_ENCODINGS)[number];

export const NetworkSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    dataset: z.string().optional().meta({ description: 'Dataset the network is shaped for (informational)' }),
    input: z.strictObject({
      shape: z.array(dim).min(1).max(3).meta({ description: '[C, H, W] or [features]' }),
      encoding: z.enum(INPUT_ENCODINGS).default('direct').meta({
        description:
          'direct: the image as multi-bit values every timestep (priced bit-serially); rate: Bernoulli spikes of the image; events: binned event frames (spikes)',
      }),
    }),
    classes: units,
    timesteps: steps.default(4),
    neuron: NeuronSchema.prefault({}),
    layers: z.array(LayerSchema).min(1).max(MAX_LAYERS),
  })
  .superRefine((net, ctx) => {
    // Layer names key the weight tensors (<name>.weight): two layers with one name would share them.
    const seen = new Map<string, number>();
    net.layers.forEach((l, i) => {
      const name = l.name ?? `${l.type}${i}`;
      const first = seen.get(name);
      const unnamed = l.name === undefined || (first !== undefined && net.layers[first].name === undefined);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['layers', i, ...(l.name !== undefined ? ['name'] : [])],
          message: `duplicate layer name "${name}" (layers[${first}] has it${unnamed ? '; unnamed layers are called <type><index>' : ''}): layer names must be unique`,
          input: l.name ?? name,
        });
      else seen.set(name, i);
    });
  })
  .meta({ description: 'imcsim network topology' });

export type NetworkSpec = z.output<typeof NetworkSchema>;
export type LayerSpec = z.output<typeof LayerSchema>;
export type NeuronSpec = z.output<typeof NeuronSchema>;
