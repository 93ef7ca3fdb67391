/**
 * The pool's size classes, as the core serves them (one table for every
 * face: the binding hands it over once, when the module loads), and the
 * per-class lists of freed blocks a {@link Pool} keeps for reuse.
 */

import { binding } from './binding.js'

const { clz32, min } = Math

const table = binding.sizeClasses()

/**
 * Every class size the core's front cache serves, ascending: a request of
 * `size` bytes, up to the last of them, gets the first class that holds it.
 */
export const CLASS_SIZES: readonly number[] = Object.freeze([...table.classes])
/** The largest class; larger requests have no class here (no reuse). */
export const CLASS_MAX: number = CLASS_SIZES[CLASS_SIZES.length - 1] ?? 0
/** What {@link classOf} answers for a size no class serves. */
export const NO_CLASS = 255

/** Requests up to here are looked up in 8-byte steps, larger ones in pages (as the core does). */
const SMALL_MAX = min(16 * 1024, CLASS_MAX)
const PAGE_SHIFT = 31 - clz32(table.page)

/** The first class that holds `size` bytes, or {@link NO_CLASS}. */
function firstHolding(size: number): number {
  const index = CLASS_SIZES.findIndex((classSize) => classSize >= size)
  return index < 0 ? NO_CLASS : index
}
/** Entry `(size + 7) >> 3`: the class of a request of `size <= SMALL_MAX` bytes. */
const smallLookup = Uint8Array.from({ length: (SMALL_MAX >> 3) + 1 }, (_, step) => firstHolding(step << 3))
/** Entry `(size - 1) >> PAGE_SHIFT`: the class of a larger request, up to {@link CLASS_MAX}. */
const largeLookup = Uint8Array.from({ length: CLASS_MAX >>> PAGE_SHIFT }, (_, step) =>
  firstHolding((step + 1) << PAGE_SHIFT),
)

/**
 * The size class (an index into {@link CLASS_SIZES}) of a request of `size`
 * bytes, or {@link NO_CLASS} above {@link CLASS_MAX}: two table lookups at
 * most, as asking native code costs more than the allocation.
 */
export function classOf(size: number): number {
  if (size <= SMALL_MAX) return smallLookup[(size + 7) >>> 3] as number
  if (size > CLASS_MAX) return NO_CLASS
  return largeLookup[(size - 1) >>> PAGE_SHIFT] as number
}

/**
 * Freed allocations kept per size class for reuse, at most this many, as
 * many as the core's front cache holds per class once grown (a batch of
 * 1000 blocks of 8–512 B spreads over 17 classes, ~127 in the widest: with
 * 64, a quarter of its frees went native; with 128, 1.5 %; a batch of
 * 10 000, ~1300 in the widest, took 435–469 ns per block with 128 and
 * 182–225 with 4096, where Buffer.allocUnsafe took 190–256). The lists
 * take 2 MiB of address space per pool handle, committed only where used…
 */
const REUSE_PER_CLASS = 4096
/** …and at most this share of the pool, or this many bytes, in all. */
const REUSE_POOL_SHARE = 1 / 32
const REUSE_MAX_BYTES = 16 * 1024 * 1024

/**
 * {@link CLASS_SIZES} in a typed array, which the reuse lists read on every
 * call: read from the frozen array instead, a 64 B malloc/free pair took
 * about a fifth longer (Node.js 20, both builds in one process).
 */
const classBytes = Int32Array.from(CLASS_SIZES)

/**
 * Offsets of freed allocations by size class, still allocated natively: a
 * `malloc` of the same class takes one back without crossing into native
 * code, which costs more than the allocation itself. Each class's offsets
 * are a fixed stack in a typed array, which no prototype change reaches (an
 * Array's `pop` could be replaced).
 */
export class ReuseLists {
  readonly #offsets = new Float64Array(CLASS_SIZES.length * REUSE_PER_CLASS)
  readonly #counts = new Uint16Array(CLASS_SIZES.length)
  #bytes = 0
  #limit: number

  /** Lists for a pool of `poolSize` bytes. */
  constructor(poolSize: number) {
    this.#limit = min(REUSE_MAX_BYTES, Math.floor(poolSize * REUSE_POOL_SHARE))
  }

  /** Whether no block is kept. */
  get empty(): boolean {
    return this.#bytes === 0
  }

  /** A kept offset of class `cls` (taken off the list), or -1. */
  take(cls: number): number {
    const count = cls === NO_CLASS ? 0 : (this.#counts[cls] as number)
    if (count === 0) return -1
    this.#counts[cls] = count - 1
    this.#bytes -= classBytes[cls] as number
    return this.#offsets[cls * REUSE_PER_CLASS + count - 1] as number
  }

  /** Keeps `offset`, a block of class `cls`, if there is room; whether it did. */
  keep(cls: number, offset: number): boolean {
    if (cls === NO_CLASS) return false
    const size = classBytes[cls] as number
    const count = this.#counts[cls] as number
    if (this.#bytes + size > this.#limit || count >= REUSE_PER_CLASS) return false
    this.#offsets[cls * REUSE_PER_CLASS + count] = offset
    this.#counts[cls] = count + 1
    this.#bytes += size
    return true
  }

  /**
   * Keeps nothing from now on (what is kept stays until drained): for a
   * pool other threads share, where a handle that ends without `delete()`
   * (collected, or its worker gone) would strand what it kept, and where no
   * other thread could take it back when the pool runs out.
   */
  disable(): void {
    this.#limit = 0
  }

  /**
   * Empties every list, handing each offset to `release`. Each offset leaves
   * its list only once `release` has returned: a stack overflow (a
   * RangeError as `release` is entered) leaves it kept, never lost.
   */
  drain(release: (offset: number) => void): void {
    for (let cls = 0; this.#bytes > 0 && cls < CLASS_SIZES.length; cls++) {
      for (let count = this.#counts[cls] as number; count > 0; count--) {
        release(this.#offsets[cls * REUSE_PER_CLASS + count - 1] as number)
        this.#counts[cls] = count - 1
        this.#bytes -= classBytes[cls] as number
      }
    }
  }
}
