/** Types of scripts/goldens.mjs for the tests that import it. */
type Lib = typeof import('../src/index.js');
export declare const REGENERATE_COMMAND: string;
export declare const REPLAY_ARCHS: readonly string[];
export declare const REPLAY_FILES: readonly string[];
export declare function goldenPath(arch: string, file: string): string;
export declare function writeGoldenTrace(lib: Lib, trace: string): Promise<void>;
export declare function replayGoldenFiles(
  lib: Lib,
  trace: string,
  arch: string,
  outDir: string,
): Promise<Record<string, string>>;
