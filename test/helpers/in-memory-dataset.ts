/** A Dataset over images made in a test (train split, all labels 0), for engine and chip-arithmetic tests. */
import type { Dataset } from '../../src/snn/data/dataset.js';

export function inMemoryDataset(
  images: Float32Array,
  shape: [number, number, number],
  classes: number,
): Dataset {
  const size = shape[0] * shape[1] * shape[2];
  const count = images.length / size;
  return {
    name: 'mnist',
    split: 'train',
    count,
    shape,
    classes,
    classNames: Array.from({ length: classes }, (_, k) => String(k)),
    images,
    labels: new Uint8Array(count),
    source: 'test',
  } as unknown as Dataset;
}
