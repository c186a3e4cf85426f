/**
 * The hardware description: one zod schema, the single home of every default.
 *
 * Every leaf carries metadata (`unit`, `source`, `description`) that docs/CONFIG.md and
 * `imcsim config schema` are generated from. Numbers come from docs/SOURCES.md §4–5;
 * where a published source is silent the value is marked "[our design]".
 */
import { z } from 'zod';

type Meta = { description: string; unit?: string; source?: string };
/** [min, max, why]: the physically meaningful range of a key and its reason, shown in docs/CONFIG.md. */
type Range = readonly [number, number, string];

const num = (def: number, [min, max, range]: Range, meta: Meta, t = z.number()) =>
  t
    .min(min)
    .max(max)
    .default(def)
    .meta({ ...meta, range });
const int = (def: number, range: Range, meta: Meta) => num(def, range, meta, z.number().int());
const oneOf = <T extends readonly [string, ...string[]]>(values: T, def: T[number], meta: Meta) =>
  z
    .enum(values)
    .meta(meta)
    .default(def as never);
/** The `class` key of a component: the classes with a model for it; the first is the default. */
const classOf = (component: keyof typeof COMPONENT_CLASS_NAMES, description: string) =>
  oneOf(COMPONENT_CLASS_NAMES[component], COMPONENT_CLASS_NAMES[component][0], { description });
/** A strict section whose fields all have defaults, so the whole section may be omitted. */
const section = <S extends z.ZodRawShape>(shape: S, description: string) =>
  z
    .strictObject(shape)
    .meta({ description })
    .prefault({} as never);

/**
 * Component classes that have a model (src/hw/components/), by the component they can model; the first is
 * the default. The one list: hw imports config, so it lives here (the lowest layer); the registry maps each
 * name to its model (a name without a model does not compile) and the `class` keys below read it.
 */
export const COMPONENT_CLASS_NAMES = {
  crossbar: ['rram_crossbar', 'spikesim_crossbar'],
  row_driver: ['row_driver'],
  // The ADC's model class follows adc.family (one class per published model); adc.class names the circuit.
  adc: ['isaac_sar_adc', 'neurosim_sar_adc', 'spikesim_adc'],
  column_mux: ['column_mux'],
  shift_add: ['shift_add', 'spikesim_subtractor'],
  output_register: ['output_register', 'spikesim_temp_buffer'],
  lif_unit: ['lif_unit', 'spikesim_neuron'],
  membrane_buffer: ['sram_buffer'],
  tile_buffer: ['sram_buffer', 'spikesim_tile_buffer'],
  tile_bus: ['tile_bus', 'spikesim_htree'],
  entropy_unit: ['entropy_unit', 'max_softmax_unit'],
  global_buffer: ['edram_buffer', 'spikesim_memory'],
  router: ['mesh_router'],
  link: ['mesh_link'],
} as const;
export type ComponentClassName = (typeof COMPONENT_CLASS_NAMES)[keyof typeof COMPONENT_CLASS_NAMES][number];

export const ADC_FAMILIES = ['isaac', 'neurosim-sar', 'spikesim'] as const;
export type AdcFamily = (typeof ADC_FAMILIES)[number];
/** SpikeSim's `xbar_size / 8` (ela_spikesim.py): its accounting fixes 8 columns per ADC. */
export const SPIKESIM_COLUMNS_PER_ADC = 8;

export const ChipSchema = section(
  {
    name: z.string().min(1).meta({ description: 'Name printed in every report' }).default('imcsim-default'),
    clock_hz: num(1e9, [1e6, 1e10, 'CMOS logic clocks: 1 MHz–10 GHz (§4: 1 GHz typical)'], {
      unit: 'Hz',
      description: 'Clock of the digital logic; one simulator cycle',
      source: 'docs/SOURCES.md §4: 1 GHz typical (NeuroSim, PUMA, ISAAC)',
    }),
    tech_node_nm: num(32, [3, 180, 'Stillmaker & Baas: 180–7 nm; 3 nm is in production'], {
      unit: 'nm',
      description: 'Technology node every component model is scaled to',
      source: 'ISAAC (ISCA 2016) 32 nm',
    }),
    supply_v: num(0.9, [0.3, 1.8, 'near-threshold 0.3 V to the 1.8 V of 180 nm (Stillmaker & Baas)'], {
      unit: 'V',
      description: 'Digital supply; energies scale with V² from each model reference supply',
      source: 'Nominal supply at 32 nm (Stillmaker & Baas 2017 table)',
    }),
  },
  'Chip-wide parameters',
);

export const CrossbarSchema = section(
  {
    class: classOf('crossbar', 'Component model class of the crossbar array'),
    rows: int(64, [8, 4096, 'ISAAC 128, SpikeSim 64 rows; [our design] bounds 8–4096'], {
      unit: 'rows',
      description: 'Word lines per crossbar',
      source: 'DT-SNN (DAC 2023): 64×64 RRAM',
    }),
    columns: int(64, [8, 4096, 'ISAAC 128, SpikeSim 64 columns; [our design] bounds 8–4096'], {
      unit: 'columns',
      description: 'Bit lines per crossbar',
      source: 'DT-SNN (DAC 2023): 64×64 RRAM',
    }),
    cell_bits: int(2, [1, 8, 'NeuroSim/MNSIM cells hold 1–4 b; [our design] ≤ 8; ≤ weight_bits'], {
      unit: 'bits',
      description: 'Bits stored per RRAM cell',
      source: 'NeuroSim/MNSIM multi-level cell',
    }),
    weight_bits: int(4, [1, 16, 'binary up to 16-b weights (ISAAC 16 b)'], {
      unit: 'bits',
      description: 'Weight precision',
      source: 'DT-SNN (DAC 2023): 4-bit weights',
    }),
    signed_weights: oneOf(['differential', 'offset', 'unsigned'], 'differential', {
      description:
        'Signed-weight scheme: differential column pairs (2× columns), offset-binary weights corrected digitally by the input count (SpikeSim), or unsigned',
      source: 'NeuroSim / ISAAC',
    }),
    rows_parallel: int(64, [1, 4096, 'at most crossbar.rows (checked)'], {
      unit: 'rows',
      description: 'Word lines driven in one read (a read of more active rows is split into groups)',
      source: '[our design] full-parallel read as in DT-SNN class designs',
    }),
    weight_scale: oneOf(['per-layer', 'per-channel'], 'per-layer', {
      description:
        'Quantisation scale of the weights under hardware-aware inference (--arch): one per layer, or one per output channel (column)',
      source: 'aihwkit / NeuroSim weight mapping',
    }),
    zero_skipping: z
      .boolean()
      .meta({ description: 'Rows whose input bit is 0 are not scheduled (no read group spent on them)' })
      .default(true),
    input_bits: int(8, [1, 16, 'ISAAC applies 16-b inputs bit-serially'], {
      unit: 'bits',
      description:
        'Precision of non-binary inputs (direct-encoded image, sums after pooling), applied bit-serially',
      source: '[our design]; ISAAC applies 16-b inputs bit-serially',
    }),
    read_voltage_v: num(0.1, [0.01, 1, '§4: 0.1–0.15 V; a read stays below set/reset (≳ 1 V)'], {
      unit: 'V',
      description: 'Read voltage on an active row',
      source: "IMC simulators' 0.1–0.15 V range (docs/SOURCES.md §4.5); DNN+NeuroSim's own default is 0.5 V",
    }),
    lrs_ohm: num(20e3, [100, 1e7, '§4: 10–20 kΩ; spans reported cells; < hrs_ohm (checked)'], {
      unit: 'ohm',
      description: 'Low-resistance state',
      source:
        "SpikeSim NICE 19.139 kΩ, rounded (docs/SOURCES.md §4.5); DNN+NeuroSim's own default R_on is 6 kΩ",
    }),
    hrs_ohm: num(200e3, [1e3, 1e9, '§4: 100 kΩ–1 MΩ; 1 kΩ–1 GΩ spans reported cells'], {
      unit: 'ohm',
      description: 'High-resistance state',
      source: 'NeuroSim / MNSIM (100 kΩ–1 MΩ)',
    }),
    read_pulse_s: num(10e-9, [1e-10, 1e-5, 'ISAAC 100 ns, NeuroSim ~10 ns; 0.1 ns–10 µs'], {
      unit: 's',
      description: 'Duration of one crossbar read (row pulse and bit-line settling)',
      source: '[our design]; ISAAC uses 100 ns per read, NeuroSim ~10 ns at 64 rows',
    }),
    cell_area_f2: num(4, [4, 200, '4F² is the crosspoint minimum; 1T1R cells are larger'], {
      unit: 'F²',
      description: 'Area of one 1T1R/crosspoint cell in feature-size squares',
      source: 'NeuroSim 4F² crosspoint',
    }),
  },
  'RRAM crossbar arrays',
);

export const RowDriverSchema = section(
  {
    class: classOf('row_driver', 'Component model class of the 1-bit row driver (DAC)'),
    power_w: num(3.9e-6, [1e-9, 1e-3, 'ISAAC 3.9 µW per DAC (§4); 1 nW–1 mW'], {
      unit: 'W',
      description: 'Power of one 1-bit DAC while driving',
      source: 'ISAAC: 3.9 µW per DAC (32 nm)',
    }),
  },
  'Word-line drivers (1-bit DACs), one per crossbar row',
);

export const AdcSchema = section(
  {
    class: oneOf(['sar_adc'], 'sar_adc', {
      description:
        'ADC circuit: successive approximation (every bundled family); the model class is chosen by adc.family',
    }),
    family: oneOf(ADC_FAMILIES, 'isaac', {
      description:
        'Which published ADC model (class) to use — isaac: isaac_sar_adc (32 nm), neurosim-sar: neurosim_sar_adc (65 nm), spikesim: spikesim_adc (65 nm); printed with every result',
      source: 'ISAAC (ISCA 2016); NeuroSim SarADC; SpikeSim',
    }),
    bits: int(4, [1, 16, 'SAR ADCs here: 1–8 b (§4); 16 b is the SAR ceiling'], {
      unit: 'bits',
      description: 'ADC resolution',
      source: 'DT-SNN class design: 4-bit',
    }),
    columns_per_adc: int(8, [1, 4096, 'ISAAC 128, NeuroSim 8; at most crossbar.columns (checked)'], {
      unit: 'columns',
      description: 'Columns multiplexed onto one ADC; one read takes that many conversion rounds',
      source: 'NeuroSim default 8 (ISAAC: 128)',
    }),
    range: oneOf(['calibrated', 'full-scale'], 'calibrated', {
      description:
        'Input range of the ADC under hardware-aware inference (--arch): calibrated per layer to a percentile of the partial sums seen on calibration samples, or the full scale of a column (rows_parallel × the top cell level); the code step is rounded up to a power of two of the cell level',
      source: 'CrossSim 3 ADC calibration (percentile clipping per layer); NeuroSim full-scale ADC',
    }),
    calibration_percentile: num(99.99, [50, 100, 'a percentile; 100 = the largest partial sum seen'], {
      unit: '%',
      description:
        'Percentile of the calibration partial sums (every conversion of the layer) the calibrated range covers',
      source: '[our design]; CrossSim calibrates ADC ranges by percentile clipping',
    }),
    calibration_samples: int(32, [1, 10000, '[our design] 1–10000'], {
      unit: 'samples',
      description:
        'Samples of the training split run to calibrate ADC ranges and membrane-potential ranges under --arch',
      source: '[our design]',
    }),
  },
  'Analog-to-digital converters at the crossbar columns',
);

export const ColumnMuxSchema = section(
  {
    class: classOf('column_mux', 'Component model class of the column multiplexer'),
  },
  'Column multiplexers in front of each ADC',
);

export const ShiftAddSchema = section(
  {
    class: classOf('shift_add', 'Component model class'),
    bits: int(16, [4, 64, 'ISAAC 16 b; at least adc.bits (checked)'], {
      unit: 'bits',
      description: 'Accumulator width',
      source: 'ISAAC 16-b shift-and-add',
    }),
  },
  'Shift-and-add accumulators combining bit-slices, input bits and row-splits (also pooling sums)',
);

export const OutputRegisterSchema = section(
  {
    class: classOf('output_register', 'Component model class'),
    bits: int(16, [1, 64, 'ISAAC 16 b; [our design] ≤ 64'], {
      unit: 'bits',
      description: 'Width of one register lane',
      source: 'ISAAC output register',
    }),
  },
  'Registers holding ADC / shift-add results (SpikeSim "temp buffer")',
);

export const PeSchema = section(
  {
    crossbars_per_pe: int(8, [1, 256, 'ISAAC 8, SpikeSim 9; [our design] ≤ 256'], {
      unit: 'crossbars',
      description: 'Crossbars grouped in one processing element',
      source: 'ISAAC IMA: 8 crossbars',
    }),
  },
  'Processing elements',
);

export const TileSchema = section(
  {
    pes_per_tile: int(4, [1, 256, 'ISAAC 12, SpikeSim 8; [our design] ≤ 256'], {
      unit: 'PEs',
      description: 'PEs in one tile',
      source: '[our design]; SpikeSim 8, ISAAC 12',
    }),
  },
  'Tiles (one NoC node each)',
);

export const LifUnitSchema = section(
  {
    class: classOf('lif_unit', 'Component model class'),
    units_per_tile: int(64, [1, 4096, '[our design] 1–4096'], {
      unit: 'units',
      description: 'LIF update units per tile working in parallel',
      source: '[our design]',
    }),
    potential_bits: int(16, [2, 64, 'SpikeSim 22 b; [our design] 2–64'], {
      unit: 'bits',
      description: 'Membrane potential width',
      source: '[our design]; SpikeSim 22 b in its area model',
    }),
    latency_cycles: int(2, [1, 1000, '[our design] 1–1000'], {
      unit: 'cycles',
      description: 'Cycles for one update (integrate, leak, compare, reset)',
      source: '[our design]',
    }),
  },
  'Leaky integrate-and-fire update units',
);

export const MembraneBufferSchema = section(
  {
    class: classOf('membrane_buffer', 'Component model class'),
    capacity_bits: int(262144, [1, 2 ** 30, '[our design] ≤ 128 MiB, beyond any per-tile SRAM'], {
      unit: 'bits',
      description: 'Membrane-potential storage per tile (overflow spills to the global buffer)',
      source: '[our design] 32 KiB',
    }),
    width_bits: int(64, [1, 4096, 'Horowitz 64 b; ≤ capacity_bits (checked)'], {
      unit: 'bits',
      description: 'Port width',
      source: 'Horowitz 8 KB SRAM, 64-b access',
    }),
    ports: int(2, [1, 8, 'SRAM macros have 1–2 ports; [our design] ≤ 8'], {
      unit: 'ports',
      description: 'Simultaneous accesses per cycle',
      source: '[our design] dual-port',
    }),
  },
  'Membrane-potential buffer (SRAM) in each tile',
);

export const TileBufferSchema = section(
  {
    class: classOf('tile_buffer', 'Component model class'),
    capacity_bits: int(65536, [1, 2 ** 30, '[our design] ≤ 128 MiB, beyond any per-tile SRAM'], {
      unit: 'bits',
      description: 'Input (spike) buffer per tile',
      source: '[our design] 8 KiB; SpikeSim 8192 b',
    }),
    width_bits: int(64, [1, 4096, 'Horowitz 64 b; ≤ capacity_bits (checked)'], {
      unit: 'bits',
      description: 'Port width',
      source: 'Horowitz 8 KB SRAM, 64-b access',
    }),
    ports: int(2, [1, 8, 'SRAM macros have 1–2 ports; [our design] ≤ 8'], {
      unit: 'ports',
      description: 'Simultaneous accesses per cycle',
      source: '[our design]',
    }),
  },
  'Tile input buffer holding incoming spikes and activations',
);

export const TileBusSchema = section(
  {
    class: classOf('tile_bus', 'Component model class'),
    width_bits: int(64, [1, 4096, 'ISAAC 384 b; [our design] ≤ 4096'], {
      unit: 'bits',
      description: 'Bus width (bits per cycle)',
      source: '[our design]',
    }),
    length_m: num(0.5e-3, [1e-6, 1e-2, '1 µm up to 1 cm, a die edge'], {
      unit: 'm',
      description: 'Wire length from tile buffer to a PE',
      source: '[our design]; ISAAC tile ≈0.37 mm²',
    }),
    wire_energy_j_per_bit_m: num(
      0.08e-12 / 1e-3,
      [1e-12, 1e-8, '§4: 0.05–0.1 pJ/bit/mm; 0.001–10 pJ/bit/mm'],
      {
        unit: 'J/(bit·m)',
        description: 'Wire energy',
        source: 'docs/SOURCES.md §4: 0.05–0.1 pJ/bit/mm (hwcomponents Wire)',
      },
    ),
  },
  'Intra-tile interconnect (H-tree) from tile buffer to PEs',
);

export const EntropyUnitSchema = section(
  {
    class: classOf('entropy_unit', 'Component model class'),
    bits: int(16, [4, 64, '[our design] 4–64'], {
      unit: 'bits',
      description: 'Datapath width',
      source: '[our design]',
    }),
    lut_entries: int(256, [2, 65536, '[our design] 2–65536 entries'], {
      unit: 'entries',
      description: 'Entries of each exp / log lookup table',
      source: '[our design]',
    }),
    lanes: int(1, [1, 1024, '[our design] 1–1024 lanes'], {
      unit: 'lanes',
      description: 'Classes processed per cycle',
      source: '[our design]',
    }),
  },
  'Entropy unit for the DT-SNN early exit (softmax, normalised entropy, compare with θ)',
);

export const GlobalBufferSchema = section(
  {
    class: classOf('global_buffer', 'Component model class'),
    capacity_bits: int(64 * 1024 * 8, [1, 2 ** 33, 'ISAAC 64 KB; [our design] ≤ 1 GiB on chip'], {
      unit: 'bits',
      description: 'Capacity',
      source: 'ISAAC eDRAM 64 KB',
    }),
    width_bits: int(256, [1, 4096, 'ISAAC 256 b; ≤ capacity_bits (checked)'], {
      unit: 'bits',
      description: 'Port width',
      source: 'ISAAC eDRAM 256-b port',
    }),
  },
  'Global buffer: input images, overflow membrane potentials, outputs',
);

export const NocSchema = section(
  {
    router_class: classOf('router', 'Component model class of a router'),
    link_class: classOf('link', 'Component model class of a link'),
    topology: z
      .string()
      .min(1)
      .meta({
        description:
          'Topology, by name in src/chip/noc/registry.ts: mesh (XY routing) or torus (wrap-around links, shorter way round, folded: every link 2 × link_length_m)',
        source: '[our design]; torus layout: Dally & Towles 2004, ch. 5',
      })
      .default('mesh'),
    mesh_columns: z
      .union([z.literal('auto'), z.number().int().min(1).max(1024)])
      .meta({
        description: 'Mesh width in tiles, or auto (smallest near-square mesh holding every tile)',
        range: '[our design] 1–1024 tiles a side',
      })
      .default('auto'),
    mesh_rows: z
      .union([z.literal('auto'), z.number().int().min(1).max(1024)])
      .meta({ description: 'Mesh height in tiles, or auto', range: '[our design] 1–1024 tiles a side' })
      .default('auto'),
    flit_bits: int(64, [8, 1024, 'ISAAC 256 b; [our design] 8–1024'], {
      unit: 'bits',
      description: 'Flit (and link) width',
      source: '[our design]; ISAAC 256',
    }),
    router_pipeline_stages: int(4, [1, 16, 'BookSim 4; [our design] 1–16'], {
      unit: 'cycles',
      description: 'Router pipeline depth',
      source: 'BookSim: route 1 + VC 1 + switch 1 + traversal 1',
    }),
    link_latency_cycles: int(1, [1, 100, 'BookSim 1; [our design] 1–100'], {
      unit: 'cycles',
      description: 'Link traversal',
      source: 'BookSim default',
    }),
    buffer_flits: int(4, [1, 1024, 'BookSim input-queued 4; [our design] 1–1024'], {
      unit: 'flits',
      description: 'Input buffer depth per router port (one queue per port; no virtual channels)',
      source:
        "BookSim's simple input-queued configuration (4 flits); BookSim 2's VC default is 16 VCs × 8 flits (docs/SOURCES.md §4.6)",
    }),
    link_length_m: num(1e-3, [1e-5, 3e-2, '10 µm up to 3 cm, a reticle-sized die'], {
      unit: 'm',
      description: 'Length of one mesh link (tile pitch)',
      source: '[our design]',
    }),
    spike_encoding: oneOf(['address-event', 'bitmap'], 'address-event', {
      description: 'Spike packets carry one address per spike, or one bit per neuron',
    }),
    psum_bits: int(16, [1, 64, 'ISAAC 16 b; [our design] ≤ 64'], {
      unit: 'bits',
      description: 'Width of a partial sum sent between tiles',
      source: 'ISAAC 16-b',
    }),
  },
  'On-chip network: a 2-D grid of routers (mesh or torus)',
);

export const LeakageSchema = section(
  {
    model: oneOf(['per-component', 'none'], 'per-component', {
      description:
        'per-component: every instance leaks its model leakage power; none: not modelled (SpikeSim compatibility; printed in every report)',
    }),
    density_w_per_m2: num(1e3, [0, 1e6, 'up to 1 W/mm²; high-performance 32 nm leaks 10–100 mW/mm²'], {
      unit: 'W/m²',
      description: 'Static power per unit area of CMOS logic and SRAM (every component but the RRAM array)',
      source:
        '[our design] 1 mW/mm², the order of low-power 32 nm processes (high-performance ones leak 10–100× more); set per study',
    }),
    power_gating: oneOf(['none', 'per-layer'], 'none', {
      description: 'per-layer: a layer’s tiles are gated off outside their busy time',
    }),
  },
  'Static power',
);

export const ScheduleSchema = section(
  {
    policy: oneOf(['layer-sequential', 'timestep-pipelined'], 'layer-sequential', {
      description:
        'Dataflow: layer l+1 starts timestep t after layer l finished it, or layers overlap across timesteps',
    }),
    reuse_static_input: z
      .boolean()
      .meta({
        description:
          'A direct-encoded first layer is computed once per inference (crossbars, ADCs, shift-adds, input delivery at t = 0); every timestep reads its stored pre-activations (noc.psum_bits each) from the membrane buffer, which counts them against its capacity (spilling as potentials do). false: recompute it every timestep (chips without that buffer)',
      })
      .default(true),
  },
  'Dataflow schedule',
);

export const MappingSchema = section(
  {
    scheme: oneOf(['im2col', 'kernel-position'], 'im2col', {
      description:
        'im2col: a conv is unrolled to Cin·kh·kw rows; kernel-position: one crossbar per kernel position (SpikeSim)',
    }),
    tile_packing: oneOf(['per-layer', 'packed'], 'per-layer', {
      description:
        'per-layer: a tile holds one layer only; packed: PEs of consecutive layers share tiles (SpikeSim)',
    }),
  },
  'How layers are placed on crossbars, PEs and tiles',
);

export const DeviceSchema = section(
  {
    programming_sigma: num(0, [0, 1, '§8: RRAM programming error 3–10 % of the target; 0 = ideal'], {
      unit: 'fraction',
      description:
        'Relative σ of each programmed conductance (Gaussian, fixed per chip instance); off by default',
      source: 'docs/SOURCES.md §8: 3–10 % (CrossSim, NeuroSim V1.5 device expert)',
    }),
    read_noise_sigma: num(0, [0, 1, '§8: RRAM read noise 1–5 %; 0 = ideal'], {
      unit: 'fraction',
      description:
        'Relative σ of each cell current per read (Gaussian, redrawn every read and timestep); off by default',
      source: 'docs/SOURCES.md §8: 1–5 % (aihwkit, CrossSim)',
    }),
    stuck_at_off_rate: num(0, [0, 1, '§8: 0.1–1 % reported; a fraction of cells'], {
      unit: 'fraction',
      description: 'Fraction of cells stuck at the off (lowest) conductance, fixed per chip instance',
      source: 'docs/SOURCES.md §8: 0.1–1 % (NeuroSim V1.5)',
    }),
    stuck_at_on_rate: num(0, [0, 1, '§8: 0.1–1 % reported; a fraction of cells'], {
      unit: 'fraction',
      description: 'Fraction of cells stuck at the on (highest) conductance, fixed per chip instance',
      source: 'docs/SOURCES.md §8: 0.1–1 % (NeuroSim V1.5)',
    }),
    finite_on_off_ratio: z
      .boolean()
      .meta({
        description:
          'The off state conducts: cell levels span G_off = 1/crossbar.hrs_ohm to G_on = 1/crossbar.lrs_ohm (on/off ratio hrs/lrs) instead of 0 to G_on; the known off-current of the active rows is subtracted digitally after the ADC',
        source: 'CrossSim Gmin/Gmax mapping; §8: on/off ratio 10–100',
      })
      .default(false),
    drift_nu: num(0, [0, 1, 'RRAM/PCM drift exponents 0.005–0.1 (aihwkit); 0 = no drift'], {
      unit: '1',
      description:
        'Conductance drift exponent ν: G(t) = G(t0)·(t/t0)^(−ν) (power law in time since programming), uncompensated',
      source: 'aihwkit PCM/ReRAM inference drift model (power law)',
    }),
    drift_nu_sigma: num(0, [0, 1, 'spread of ν between cells; 0 = every cell drifts alike'], {
      unit: '1',
      description: 'σ of the drift exponent between cells (Gaussian, fixed per chip instance)',
      source: 'aihwkit drift model (ν per device)',
    }),
    drift_time_s: num(1, [1e-6, 3.2e9, 'up to ~100 years after programming'], {
      unit: 's',
      description: 'Time since programming at which the chip is read (drift model)',
      source: '[our design]',
    }),
    drift_t0_s: num(1, [1e-6, 1e6, 'reference time of the power law'], {
      unit: 's',
      description: 'Reference time t0 of the drift power law (conductances are exact at t0)',
      source: 'aihwkit t0 = 20 s for PCM; [our design] 1 s',
    }),
    wire_resistance_ohm: num(0, [0, 1000, 'a few Ω per cell pitch at 32 nm; 0 = ideal wires'], {
      unit: 'ohm',
      description:
        'Wire resistance per cell segment of rows and columns: first-order IR drop (each active cell sees the read voltage less the drop along its row from the driver and along its column to the ADC)',
      source:
        'aihwkit first-order IR drop; CrossSim parasitics (its solver is iterative; ours is first order)',
    }),
    seed: int(1, [0, 2 ** 32 - 1, 'a 32-bit seed'], {
      description:
        'Seed of the chip instance (programming error, stuck cells, drift spread) and of read noise',
      source: '[our design]',
    }),
  },
  'Device non-idealities of the RRAM cells, modelled by hardware-aware inference (--arch); all off by default',
);

export const ArchSchema = z
  .strictObject({
    chip: ChipSchema,
    accounting: oneOf(['imcsim', 'spikesim'], 'imcsim', {
      description:
        'imcsim: spike-driven action counts; spikesim: SpikeSim’s activity-independent per-PE-cycle model (docs/SOURCES.md §5)',
    }),
    crossbar: CrossbarSchema,
    row_driver: RowDriverSchema,
    adc: AdcSchema,
    column_mux: ColumnMuxSchema,
    shift_add: ShiftAddSchema,
    output_register: OutputRegisterSchema,
    pe: PeSchema,
    tile: TileSchema,
    lif_unit: LifUnitSchema,
    membrane_buffer: MembraneBufferSchema,
    tile_buffer: TileBufferSchema,
    tile_bus: TileBusSchema,
    entropy_unit: EntropyUnitSchema,
    global_buffer: GlobalBufferSchema,
    noc: NocSchema,
    leakage: LeakageSchema,
    schedule: ScheduleSchema,
    mapping: MappingSchema,
    device: DeviceSchema,
  })
  .meta({ description: 'imcsim hardware description' });

export type ArchSpec = z.output<typeof ArchSchema>;
export type ArchInput = z.input<typeof ArchSchema>;
