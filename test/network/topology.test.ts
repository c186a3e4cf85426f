import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { loadNetwork, parseNetwork } from '../../src/network/load.js';

describe('shipped topologies', () => {
  it('VGG9: SpikeSim in/out dims (conv followed by pooling at the pooled size)', () => {
    const n = loadNetwork('models/vgg9-cifar10');
    const convs = n.shapes.mapped.filter((l) => l.kind === 'conv2d');
    expect(convs.map((l) => l.inChannels)).toEqual([3, 64, 64, 128, 128, 256, 256]);
    expect(convs.map((l) => l.outChannels)).toEqual([64, 64, 128, 128, 256, 256, 256]);
    expect(convs.map((l) => l.inDim)).toEqual([32, 32, 16, 16, 8, 8, 8]);
    expect(convs.map((l) => l.pooledOutDim)).toEqual([32, 16, 16, 8, 8, 8, 4]);
  });
  it('VGG16: 13 conv + 2 linear layers, 512 features into the classifier', () => {
    const n = loadNetwork('models/vgg16-cifar10');
    expect(n.shapes.mapped.filter((l) => l.kind === 'conv2d')).toHaveLength(13);
    expect(n.shapes.mapped.find((l) => l.name === 'fc1')!.inChannels).toBe(512);
  });
  it('MNIST convnet: 1568 features into fc1', () => {
    const n = loadNetwork('models/mnist-convnet');
    expect(n.shapes.mapped.map((l) => l.name)).toEqual(['conv1', 'conv2', 'fc1', 'fc2']);
    expect(n.shapes.mapped[2].inChannels).toBe(32 * 7 * 7);
  });
});

describe('topology errors', () => {
  const base = (layers: string, classes = 10) =>
    `name: t\ninput: { shape: [1, 8, 8] }\nclasses: ${classes}\nlayers:\n${layers}`;
  it('a class count that does not match the output', () => {
    expect(() =>
      parseNetwork(base('  - { type: flatten }\n  - { type: linear, out_features: 5 }\n'), 'n.yaml'),
    ).toThrow(/classes.*expected 5/);
  });
  it('linear on a 3-D input asks for flatten', () => {
    expect(() => parseNetwork(base('  - { type: linear, out_features: 10 }\n'), 'n.yaml')).toThrow(/flatten/);
  });
  it('an unknown layer field is located with a suggestion', () => {
    try {
      parseNetwork(
        base(
          '  - { type: conv2d, out_chanels: 4, kernel: 3 }\n  - { type: flatten }\n  - { type: linear, out_features: 10 }\n',
        ),
        'n.yaml',
      );
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toMatch(/n\.yaml:5:\d+: layers\[0\]/);
    }
  });
  it('a conv that shrinks the input to nothing', () => {
    expect(() =>
      parseNetwork(
        base(
          '  - { type: conv2d, out_channels: 4, kernel: 9 }\n  - { type: flatten }\n  - { type: linear, out_features: 10 }\n',
        ),
        'n.yaml',
      ),
    ).toThrow(/empty/);
  });
});
