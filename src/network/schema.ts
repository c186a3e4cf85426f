/**
 * Network topology files (models/<name>/network.yaml): layers with type, shapes, kernel, stride, padding,
 * pooling and neuron parameters. The SNN engine loads weights into this same format.
 */
import { z } from 'zod';

const posInt = z.number().int().min(1);
const nonNegInt = z.number().int().min(0);
const pair = z.union([posInt, z.tuple([posInt, posInt])]);
const pairNonNeg = z.union([nonNegInt, z.tuple([nonNegInt, nonNegInt])]);

export const NEURON_CONVENTIONS = ['dtsnn', 'iir', 'snntorch', 'spikingjelly', 'norse'] as const;

export const NeuronSchema = z
  .strictObject({
    model: z
      .enum(['lif', 'if'])
      .meta({ description: 'Leaky or non-leaky integrate-and-fire' })
      .default('lif'),
    convention: z
      .enum(NEURON_CONVENTIONS)
      .meta({
        description: 'Update order and reset rule of the engine the model comes from (REFERENCES.md §2)',
      })
      .default('dtsnn'),
    leak: z
      .number()
      .min(0)
      .max(1)
      .meta({ description: 'Leak factor per timestep (β, λ); 1 = no leak' })
      .default(0.5),
    threshold: z.number().positive().meta({ description: 'Firing threshold' }).default(1.0),
    reset: z
      .enum(['hard', 'soft'])
      .meta({ description: 'Hard reset to 0, or subtract the threshold' })
      .default('hard'),
  })
  .meta({ description: 'Neuron parameters' });

const common = {
  name: z.string().min(1).optional(),
};

const weighted = {
  spiking: z.boolean().meta({ description: 'false for the non-spiking output accumulator' }).default(true),
  bias: z.boolean().default(false),
  neuron: NeuronSchema.optional(),
  timesteps: posInt
    .optional()
    .meta({ description: 'Per-layer timesteps (LD-SNN); defaults to the network T' }),
};

export const Conv2dSchema = z.strictObject({
  ...common,
  type: z.literal('conv2d'),
  out_channels: posInt,
  kernel: pair,
  stride: pair.default(1),
  padding: pairNonNeg.default(0),
  dilation: pair.default(1),
  groups: posInt.default(1),
  ...weighted,
});
export const LinearSchema = z.strictObject({
  ...common,
  type: z.literal('linear'),
  out_features: posInt,
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

export const NetworkSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    dataset: z.string().optional().meta({ description: 'Dataset the network is shaped for (informational)' }),
    input: z.strictObject({
      shape: z.array(posInt).min(1).max(3).meta({ description: '[C, H, W] or [features]' }),
      encoding: z.enum(['direct', 'rate']).default('direct'),
    }),
    classes: posInt,
    timesteps: posInt.default(4),
    neuron: NeuronSchema.prefault({}),
    layers: z.array(LayerSchema).min(1),
  })
  .meta({ description: 'imcsim network topology' });

export type NetworkSpec = z.output<typeof NetworkSchema>;
export type LayerSpec = z.output<typeof LayerSchema>;
export type NeuronSpec = z.output<typeof NeuronSchema>;
