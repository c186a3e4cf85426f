/**
 * The topology YAML of a random small network drawn by a property test: convolutions (each optionally
 * followed by a 2×2 average pool, while the map is large enough), then a flatten, the linear layers, and a
 * non-spiking output layer.
 */
export interface RandomNetworkCase {
  channels: number;
  size: number;
  classes: number;
  timesteps: number;
  layers: ReadonlyArray<{ conv: boolean; out: number; kernel: number; stride: number; pool: boolean }>;
}

export function randomNetworkYaml(c: RandomNetworkCase): string {
  const lines = [
    'name: prop',
    `input: { shape: [${c.channels}, ${c.size}, ${c.size}], encoding: direct }`,
    `classes: ${c.classes}`,
    `timesteps: ${c.timesteps}`,
    'layers:',
  ];
  let h = c.size;
  c.layers.forEach((l, i) => {
    if (l.conv && h >= l.kernel) {
      lines.push(
        `  - { name: c${i}, type: conv2d, out_channels: ${l.out}, kernel: ${l.kernel}, stride: ${l.stride}, padding: ${l.kernel >> 1} }`,
      );
      h = Math.floor((h + 2 * (l.kernel >> 1) - l.kernel) / l.stride) + 1;
      if (l.pool && h >= 2) {
        lines.push(`  - { name: p${i}, type: avgpool2d, kernel: 2 }`);
        h = Math.floor(h / 2);
      }
    }
  });
  lines.push('  - { name: f, type: flatten }');
  c.layers.forEach((l, i) => {
    if (!l.conv) lines.push(`  - { name: l${i}, type: linear, out_features: ${l.out} }`);
  });
  lines.push(`  - { name: out, type: linear, out_features: ${c.classes}, spiking: false }`);
  return lines.join('\n');
}
