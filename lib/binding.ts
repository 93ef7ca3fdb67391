/**
 * The native binding, loaded once: the napi-rs functions (`binding.d.ts`)
 * and the hot calls the Rust side adds to the exports by hand.
 */

import type * as Binding from '../binding.js'

/**
 * The native binding, or a clear error where vmem cannot run: jemalloc's
 * Rust build does not support MSVC, so there is no Windows build.
 */
function loadBinding(): typeof Binding {
  if (process.platform === 'win32') {
    throw new Error(
      'vmem does not support Windows: its allocator (jemalloc, through tikv-jemalloc-sys) does not build ' +
        'with MSVC. Use Linux (glibc or musl), macOS or FreeBSD, or WSL on Windows.',
    )
  }
  return require('../binding.js') as typeof Binding
}
const binding = loadBinding()

export { binding }
export type { Binding }

/** The hot calls, plain N-API functions the Rust side adds to the exports. */
export interface HotCalls {
  poolMalloc(handle: number, size: number): number
  poolCalloc(handle: number, nmemb: number, size: number): number
  poolAlignedAlloc(handle: number, alignment: number, size: number): number
  poolRealloc(handle: number, offset: number, size: number): number
  poolFree(handle: number, offset: number): void
  poolUsableSize(handle: number, offset: number): number
}
export const hot = binding as unknown as HotCalls
