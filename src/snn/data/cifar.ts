/**
 * CIFAR-10 and CIFAR-100, the binary versions of the official distributions
 * (https://www.cs.toronto.edu/~kriz/cifar.html, "Binary version"):
 *
 *   CIFAR-10   data_batch_1.bin … data_batch_5.bin (train, 5 × 10,000), test_batch.bin (10,000);
 *              each record = 1 label byte + 3,072 pixel bytes (1,024 red, 1,024 green, 1,024 blue,
 *              each 32×32 row-major); class names in batches.meta.txt (one per line)
 *   CIFAR-100  train.bin (50,000), test.bin (10,000); each record = 1 coarse label byte + 1 fine label
 *              byte + 3,072 pixel bytes; the fine label (100 classes) is used; names in fine_label_names.txt
 *
 * The directory may be the archive's top folder itself or hold it (cifar-10-batches-bin/,
 * cifar-100-binary/). Files are read in the order above; pixels are byte/255 in C·H·W order.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { located } from '../../util/errors.js';
import { withFileErrors } from '../../util/fs-errors.js';
import type { RawSet } from './external.js';

const PIXELS = 3 * 32 * 32;

const LAYOUT = {
  cifar10: {
    sub: 'cifar-10-batches-bin',
    train: [
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
    ],
    test: ['test_batch.bin'],
    labelBytes: 1,
    classes: 10,
    names: 'batches.meta.txt',
  },
  cifar100: {
    sub: 'cifar-100-binary',
    train: ['train.bin'],
    test: ['test.bin'],
    labelBytes: 2,
    classes: 100,
    names: 'fine_label_names.txt',
  },
} as const;

export function readCifar(format: 'cifar10' | 'cifar100', dir: string, which: 'train' | 'test'): RawSet {
  const L = LAYOUT[format];
  const root = existsSync(join(dir, L.sub)) ? join(dir, L.sub) : dir;
  const record = L.labelBytes + PIXELS;
  const parts: Uint8Array[] = [];
  for (const f of L[which]) {
    const file = join(root, f);
    if (!existsSync(file))
      throw located(`${format}: batch file missing`, {
        file,
        expected: `${L[which].join(', ')} in ${dir} (the binary version of the official archive)`,
        found: 'no such file',
      });
    const bytes = withFileErrors(() => readFileSync(file), file);
    if (bytes.length === 0 || bytes.length % record !== 0)
      throw located(
        `${format}: the batch file is not a whole number of ${record}-byte records (truncated?)`,
        {
          file,
          expected: `a multiple of ${record} bytes`,
          found: `${bytes.length} bytes`,
        },
      );
    parts.push(bytes);
  }
  const count = parts.reduce((a, p) => a + p.length / record, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let n = 0;
  parts.forEach((p, k) => {
    for (let r = 0; r < p.length / record; r++, n++) {
      const at = r * record;
      const label = p[at + L.labelBytes - 1];
      if (label >= L.classes)
        throw located(`${format}: label out of range in record ${r}`, {
          file: join(root, L[which][k]),
          expected: `0..${L.classes - 1}`,
          found: String(label),
        });
      labels[n] = label;
      const px = p.subarray(at + L.labelBytes, at + record);
      const base = n * PIXELS;
      for (let i = 0; i < PIXELS; i++) images[base + i] = px[i] / 255;
    }
  });
  const namesFile = join(root, L.names);
  let classNames = Array.from({ length: L.classes }, (_, k) => String(k));
  if (existsSync(namesFile)) {
    const lines = readFileSync(namesFile, 'utf8')
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (lines.length === L.classes) classNames = lines;
  }
  return {
    images,
    labels,
    count,
    shape: [3, 32, 32],
    frames: 1,
    classes: L.classes,
    classNames,
    source: `${format} binary ${L[which].join(', ')} (${which === 'train' ? 'shipped train set' : 'shipped test set'}; byte/255)`,
  };
}
