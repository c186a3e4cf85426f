import { fileURLToPath } from 'node:url';

/** The installed package's root (dist/util/package-root.js → ../..): the shipped models and configs live there. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
