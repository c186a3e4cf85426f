/**
 * The committed WebAssembly bytes (src/snn/kernels/conv-wasm.ts) are what assembling the committed text
 * (src/snn/kernels/conv.wat) with wabt gives: the binary cannot drift from its source.
 */
import { describe, expect, it } from 'vitest';
import { WASM_BASE64 } from '../../src/snn/kernels/conv-wasm.js';

describe('WebAssembly kernels', () => {
  it('re-assembling conv.wat gives the committed bytes', async () => {
    // @ts-expect-error -- a plain ES module script without type declarations
    const { assemble } = await import('../../scripts/build-kernels.mjs');
    const bytes: Buffer = await assemble('conv');
    expect(bytes.length).toBeGreaterThan(8);
    expect(bytes.toString('base64')).toBe(WASM_BASE64);
  });
});
