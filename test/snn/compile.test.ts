import { describe, expect, it } from 'vitest';
import { parseNetwork } from '../../src/network/load.js';
import { compileLayers } from '../../src/snn/compile.js';
import { initModel } from '../../src/snn/model.js';

const net = (layers: string) =>
  initModel(
    parseNetwork(
      `name: n\ninput: { shape: [2, 8, 8] }\nclasses: 3\ntimesteps: 2\n` +
        `neuron: { model: lif, convention: snntorch, leak: 0.25, threshold: 0.5 }\nlayers:\n${layers}`,
      'n.yaml',
    ).spec,
    1,
  );

describe('the shared layer compiler', () => {
  it('hand-worked: conv 3×3 s2 p1 → its batchnorm → maxpool 2 → batchnorm → flatten → dropout → linear', () => {
    const m = net(
      '  - { name: c1, type: conv2d, out_channels: 4, kernel: 3, stride: 2, padding: 1 }\n' +
        '  - { name: bn1, type: batchnorm, eps: 0.001 }\n' +
        '  - { type: maxpool2d, kernel: 2 }\n' +
        '  - { name: bn2, type: batchnorm }\n' +
        '  - { type: flatten }\n' +
        '  - { name: drop, type: dropout, p: 0.3 }\n' +
        '  - { name: fc, type: linear, out_features: 3, spiking: false }\n',
    );
    m.tensors.set('c1.threshold', { shape: [1], data: Float32Array.of(0.75) });
    const out = compileLayers(m);
    expect(out.map((l) => l.kind)).toEqual(['weighted', 'pool', 'batchnorm', 'dropout', 'weighted']);
    const [c1, pool, bn2, drop, fc] = out;
    if (c1.kind !== 'weighted' || fc.kind !== 'weighted') throw new Error('kinds');
    // 8×8, kernel 3, stride 2, padding 1: ⌊(8 + 2 − 3)/2⌋ + 1 = 4.
    expect([c1.cin, c1.h, c1.w, c1.cout, c1.ho, c1.wo, c1.inSize, c1.outSize]).toEqual([
      2, 8, 8, 4, 4, 4, 128, 64,
    ]);
    expect(c1.batchnorm).toEqual({ name: 'bn1', c: 4, hw: 16, eps: 0.001 });
    expect(c1.neuronParams).toMatchObject({ convention: 'snntorch', leak: 0.25, threshold: 0.75 });
    expect(pool).toMatchObject({ type: 'maxpool2d', c: 4, h: 4, w: 4, ho: 2, wo: 2, kh: 2, sh: 2 });
    expect(bn2).toMatchObject({ name: 'bn2', c: 4, hw: 4, eps: 1e-5 });
    expect(drop).toMatchObject({ size: 16, p: 0.3 });
    expect([fc.cin, fc.cout, fc.kh, fc.spiking, fc.neuron, fc.batchnorm]).toEqual([
      16,
      3,
      1,
      false,
      null,
      null,
    ]);
  });

  it('refuses pooling after the output layer', () => {
    const m = net(
      '  - { name: c1, type: conv2d, out_channels: 3, kernel: 8, spiking: false }\n' +
        '  - { type: avgpool2d, kernel: 1 }\n',
    );
    expect(() => compileLayers(m)).toThrow(/after the last conv2d\/linear layer/);
  });
});
