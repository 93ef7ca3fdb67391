/**
 * The library's process-wide face: its constants and the functions that
 * take no pool (libvmem's `vmem_set_funcs`, `vmem_check_version`,
 * `vmem_errormsg`, and `usableSizeFor`).
 */

import { binding } from './binding.js'
import { checkCount, checkUint32, invalidArgType } from './errors.js'

/** The smallest pool size: 14 MiB (libvmem's `VMEM_MIN_POOL`). */
export const MIN_POOL: number = binding.MIN_POOL
/**
 * The system's page size in bytes (4096 on most Linux systems, 16384 on Apple
 * Silicon). A pool made by {@link Pool.createInRegion} starts at the first
 * page boundary past the region's first byte, so a region needs
 * `MIN_POOL + PAGE_SIZE` bytes to hold the smallest pool.
 */
export const PAGE_SIZE: number = binding.pageSizeBytes()
/** The major version of the libvmem API this package provides. */
export const MAJOR_VERSION: number = binding.MAJOR_VERSION
/** The minor version of the libvmem API this package provides. */
export const MINOR_VERSION: number = binding.MINOR_VERSION

/** Where the library prints: statistics and log lines. */
export interface Funcs {
  /**
   * Receives what {@link Pool.statsPrint} prints and the log lines that
   * `VMEM_LOG_LEVEL` enables. `null` or absent: the default, the file named by
   * `VMEM_LOG_FILE` or else stderr. Log lines arrive asynchronously, on the
   * thread that called {@link setFuncs}.
   */
  print?: ((message: string) => void) | null
}

let printFunction: ((message: string) => void) | null = null

/** The print function {@link setFuncs} set, or null for the default. */
export function currentPrint(): ((message: string) => void) | null {
  return printFunction
}

/**
 * Replaces the function the library prints through (libvmem's
 * `vmem_set_funcs`; in JavaScript only `print` applies: the library's own
 * small allocations use the native heap). The setting is per process.
 *
 * @example
 * ```ts
 * const lines: string[] = []
 * setFuncs({ print: (text) => lines.push(text) })
 * pool.statsPrint()
 * setFuncs({ print: null })
 * ```
 */
export function setFuncs(funcs: Funcs): void {
  if (typeof funcs !== 'object' || funcs === null) throw invalidArgType('funcs', 'of type object', funcs)
  const print = funcs.print ?? null
  if (print !== null && typeof print !== 'function') {
    throw invalidArgType('funcs.print', 'of type function or null', print)
  }
  printFunction = print
  binding.setLogPrint(print)
}

/**
 * Checks that this package provides libvmem API `major.minor`: `null` when it
 * does, else the reason, such as
 * `'libvmem major version mismatch (need 2, found 1)'`.
 */
export function checkVersion(major: number, minor: number): string | null {
  return binding.checkVersion(checkUint32('major', major), checkUint32('minor', minor))
}

/**
 * The usable size that allocating `size` bytes gives in any pool, without
 * allocating (jemalloc's `nallocx`; not in libvmem): a view of that length
 * wastes nothing. 0 when no allocation of that size is possible.
 *
 * @example
 * ```ts
 * usableSizeFor(100) // 112
 * ```
 */
export function usableSizeFor(size: number): number {
  return binding.usableSizeFor(checkCount('size', size))
}

/**
 * The last error message of the calling thread (libvmem's `vmem_errormsg`):
 * meaningful right after a call that threw a {@link VmemError}.
 */
export function errormsg(): string {
  return binding.errormsg()
}
