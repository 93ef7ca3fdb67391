/**
 * The native binding, loaded once: the napi-rs functions (`binding.d.ts`)
 * and the hot calls the Rust side adds to the exports itself (`hot.d.ts`).
 */

import type * as Binding from '../binding.js'
import type { HotCalls } from '../hot.js'

/**
 * The native binding, or a clear error where vmem cannot run: jemalloc's
 * Rust build does not support MSVC, so there is no Windows build.
 */
function loadBinding(): typeof Binding {
  if (process.platform === 'win32') {
    throw new Error(
      'vmem does not support Windows: its allocator (jemalloc) does not build ' +
        'with MSVC. Use Linux (glibc or musl), macOS or FreeBSD, or WSL on Windows.',
    )
  }
  return require('../binding.js') as typeof Binding
}
const binding = loadBinding()

export { binding }
export type { Binding }

/** The hot calls (typings generated from src/hot.rs: hot.d.ts). */
export const hot = binding as unknown as HotCalls
export type { HotCalls }
