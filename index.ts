/**
 * vmem: volatile memory pools on memory-mapped files, for Node.js.
 *
 * A {@link Pool} is a malloc-style heap whose memory is a temporary file
 * mapped into the process — on tmpfs, a persistent-memory (DAX) file system,
 * or a disk when the data should outgrow RAM — or a buffer you pass in. Its
 * allocations are `Uint8Array` views straight over that memory: nothing is
 * copied and nothing grows the V8 heap but the small view objects.
 *
 * @example
 * ```ts
 * import { Pool } from 'vmem'
 *
 * using pool = Pool.create('/dev/shm', 64 * 1024 * 1024)
 * const record = pool.malloc(4096)
 * record.fill(7)
 * pool.free(record)
 * ```
 *
 * @packageDocumentation
 */

import { constants as osConstants } from 'node:os'
import { markAsUntransferable } from 'node:worker_threads'

import type * as Binding from './binding.js'

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
  return require('./binding.js') as typeof Binding
}
const binding = loadBinding()

/** The hot calls, plain N-API functions the Rust side adds to the exports. */
interface HotCalls {
  poolMalloc(handle: number, size: number): number
  poolCalloc(handle: number, nmemb: number, size: number): number
  poolAlignedAlloc(handle: number, alignment: number, size: number): number
  poolRealloc(handle: number, offset: number, size: number): number
  poolFree(handle: number, offset: number): void
  poolUsableSize(handle: number, offset: number): number
}
const hot = binding as unknown as HotCalls

/** The smallest pool size: 14 MiB (libvmem's `VMEM_MIN_POOL`). */
export const MIN_POOL: number = binding.MIN_POOL
/** The major version of the libvmem API this package provides. */
export const MAJOR_VERSION: number = binding.MAJOR_VERSION
/** The minor version of the libvmem API this package provides. */
export const MINOR_VERSION: number = binding.MINOR_VERSION

/** The errno names a {@link VmemError} carries. */
export type VmemErrorCode = 'EINVAL' | 'ENOMEM' | 'ENOENT' | 'ENOTDIR' | 'EACCES' | 'ENOSPC' | (string & {})

/**
 * An error reported by the pool library: an errno name and number, and the
 * text that {@link errormsg} returns.
 *
 * @example
 * ```ts
 * try {
 *   Pool.create('/no/such/dir', MIN_POOL)
 * } catch (err) {
 *   if (err instanceof VmemError && err.code === 'ENOENT') console.log(err.message)
 * }
 * ```
 */
export class VmemError extends Error {
  /** The errno name, such as `'ENOMEM'`. */
  readonly code: VmemErrorCode
  /** The errno number, such as `12` for `ENOMEM`. */
  readonly errno: number

  /** Builds an error; the library makes these, user code rarely needs to. */
  constructor(code: VmemErrorCode, errno: number, message: string) {
    super(message)
    this.name = 'VmemError'
    this.code = code
    this.errno = errno
  }
}

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, errno]) => [errno, name] as const),
)

function errnoError(errno: number, message: string): VmemError {
  return new VmemError(errnoNames.get(errno) ?? 'EUNKNOWN', errno, message)
}

/** The error of the native call that just failed on this thread. */
function lastError(): VmemError {
  return errnoError(binding.lastErrno(), binding.errormsg())
}

const EINVAL = osConstants.errno.EINVAL

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'function') return `function ${value.name}`
  if (typeof value === 'object') {
    return `an instance of ${(value as object).constructor?.name ?? 'Object'}`
  }
  let shown = String(value)
  if (typeof value === 'string') shown = `'${shown.length > 25 ? `${shown.slice(0, 25)}...` : shown}'`
  return `type ${typeof value} (${shown})`
}

function withCode<E extends Error>(error: E, code: string): E & { code: string } {
  Object.defineProperty(error, 'code', { value: code, enumerable: false, configurable: true, writable: true })
  return error as E & { code: string }
}

function invalidArgType(name: string, expected: string, value: unknown): TypeError {
  return withCode(
    new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(value)}`),
    'ERR_INVALID_ARG_TYPE',
  )
}

function outOfRange(name: string, range: string, value: unknown): RangeError {
  return withCode(
    new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`),
    'ERR_OUT_OF_RANGE',
  )
}

/** A byte count or count: an integer from 0 to 2^53 - 1. */
function checkCount(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!Number.isSafeInteger(value) || value < 0) {
    throw outOfRange(name, 'an integer >= 0 and <= 9007199254740991', value)
  }
  return value
}

function checkUint32(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw outOfRange(name, 'an integer >= 0 and <= 4294967295', value)
  }
  return value
}

function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value)
  return value
}

/** Statistics of one pool, in bytes unless named otherwise: the fields are documented where the native side defines them. */
export type PoolStats = Binding.NativeStats

/** A view that a pool handed out: what `malloc` & co. return. */
export type PoolView = Uint8Array | Uint32Array

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

/**
 * Keeps a region's ArrayBuffer from being detached while a pool lives in it:
 * postMessage and structuredClone refuse it, and so do `transfer()` and
 * `transferToFixedLength()` (Node.js 24 refuses those by itself; 22 does not).
 */
function pin(region: ArrayBuffer): void {
  markAsUntransferable(region)
  const refuse = (): never => {
    throw errnoError(EINVAL, 'this ArrayBuffer holds a vmem pool and cannot be transferred')
  }
  for (const method of ['transfer', 'transferToFixedLength']) {
    if (method in region) Object.defineProperty(region, method, { value: refuse, configurable: true })
  }
}

/** Forgets the handles of pools collected without `delete()`. */
const collected = new FinalizationRegistry<number>((handle) => binding.poolRelease(handle))

const poolDeleted = (): VmemError => errnoError(EINVAL, 'the pool was deleted')

/** jemalloc's page: requests above the small classes round up to pages. */
const PAGE = binding.usableSizeFor(2 ** 20 + 1) - 2 ** 20
/** jemalloc's largest small size class: three and a half pages. */
const SMALL_MAX = (7 * PAGE) / 2

/**
 * The usable size jemalloc gives a request of `size` bytes, computed here
 * because asking native code costs more than the allocation: 8, then 16,
 * 32, 48, 64, then four classes per doubling (80, 96, 112, 128, 160, …) up to
 * {@link SMALL_MAX}, then whole pages. A test checks it against the native
 * `mallocUsableSize` for every size up to 4 KiB and many beyond.
 */
function sizeClass(size: number): number {
  if (size <= 8) return 8
  if (size > SMALL_MAX) return Math.ceil(size / PAGE) * PAGE
  // Small integers: shifts and masks, no floating point on the hot path.
  const spacing = 1 << Math.max(4, 29 - Math.clz32(size - 1))
  return (size + spacing - 1) & -spacing
}

/** Whether {@link sizeClass} agrees with this jemalloc; reuse is off if not. */
const SIZE_CLASSES_MATCH = [1, 9, 17, 100, 1000, 5000, SMALL_MAX, SMALL_MAX + 1, 5 * PAGE + 1].every(
  (size) => sizeClass(size) === binding.usableSizeFor(size),
)

/** Freed allocations kept per size class for reuse, at most this many… */
const REUSE_PER_CLASS = 64
/** …and at most this share of the pool, or this many bytes, in all. */
const REUSE_POOL_SHARE = 1 / 32
const REUSE_MAX_BYTES = 16 * 1024 * 1024
const utf8 = new TextEncoder()

/**
 * A pool of volatile memory on a memory-mapped file (libvmem's `VMEM *`).
 *
 * Allocations are views straight over the pool's memory. Every misuse — a
 * double free, a subarray, another pool's view, a call after
 * {@link Pool.delete} — throws instead of corrupting anything; after
 * `delete()` every view of the pool reads as length 0.
 *
 * @example
 * ```ts
 * using pool = Pool.create(os.tmpdir(), 256 * 1024 * 1024)
 * const name = pool.strdup('vmem')
 * const table = pool.calloc(1024, 8)
 * pool.free(name)
 * ```
 */
export class Pool {
  /** The native pool's handle; -1 once deleted. */
  #handle: number
  #memory: ArrayBuffer | null
  /**
   * Live allocations by offset: the only views `free` & co. accept. An
   * offset kept for reuse maps to `null` rather than being deleted: V8
   * shrinks and regrows a Map on every delete-then-set of its last entries,
   * which made a malloc/free pair 3× slower.
   */
  readonly #live = new Map<number, PoolView | null>()
  readonly #size: number
  /**
   * Offsets of freed allocations by size class, still allocated natively:
   * a `malloc` of the same class takes one back without crossing into
   * native code, which costs more than the allocation itself. Emptied
   * before anything that must see them freed (stats, out of memory).
   */
  readonly #reuse = new Map<number, number[]>()
  #reuseBytes = 0
  readonly #reuseLimit: number

  private constructor(handle: number, region: ArrayBuffer | SharedArrayBuffer | null) {
    let memory: ArrayBuffer
    try {
      memory = binding.poolMemory(handle)
    } catch (err) {
      binding.poolDelete(handle, null)
      throw errnoError(
        osConstants.errno.ENOMEM,
        `cannot map the pool into JavaScript (${(err as Error).message}); ` +
          'Node.js 20 limits an ArrayBuffer to 4 GiB, Node.js 22 and newer do not',
      )
    }
    // Node.js copies or refuses this ArrayBuffer in postMessage and
    // structuredClone; if `memory.transfer()` moves it away, delete() leaves
    // the mapping to the new owner (see poolDelete).
    if (region !== null) {
      // The caller's buffer holds the memory: it lives as long as any view.
      Object.defineProperty(memory, 'region', { value: region })
    }
    this.#handle = handle
    this.#memory = memory
    this.#size = memory.byteLength
    this.#reuseLimit = SIZE_CLASSES_MATCH
      ? Math.min(REUSE_MAX_BYTES, Math.floor(this.#size * REUSE_POOL_SHARE))
      : 0
    collected.register(this, handle, this)
  }

  /**
   * Creates a pool of `size` bytes in a temporary file inside `dir`
   * (libvmem's `vmem_create`). The file never shows in a listing and its
   * space is freed when the pool is deleted or the process ends. All `size`
   * bytes are reserved now, so a full file system fails here with `ENOSPC`.
   *
   * @throws {@link VmemError} `EINVAL` (size below {@link MIN_POOL}), `ENOENT`,
   * `ENOTDIR`, `EACCES`, `ENOSPC`, `ENOMEM`.
   */
  static create(dir: string, size: number): Pool {
    checkString('dir', dir)
    checkCount('size', size)
    const handle = binding.createPool(dir, size)
    if (handle < 0) throw lastError()
    return new Pool(handle, null)
  }

  /**
   * Creates a pool inside a buffer you own (libvmem's
   * `vmem_create_in_region`), using its page-aligned interior; its old
   * contents are lost. The buffer is kept alive while the pool or any view
   * of it lives, and cannot be transferred meanwhile.
   *
   * @throws {@link VmemError} `EINVAL` when the interior is smaller than
   * {@link MIN_POOL}.
   */
  static createInRegion(region: ArrayBuffer | SharedArrayBuffer): Pool {
    const isShared = typeof SharedArrayBuffer !== 'undefined' && region instanceof SharedArrayBuffer
    if (!(region instanceof ArrayBuffer) && !isShared) {
      throw invalidArgType('region', 'an instance of ArrayBuffer or SharedArrayBuffer', region)
    }
    if (region instanceof ArrayBuffer) pin(region)
    const handle = binding.createPoolInRegion(new Uint8Array(region))
    if (handle < 0) throw lastError()
    return new Pool(handle, region)
  }

  #use(): number {
    const handle = this.#handle
    if (handle < 0) throw poolDeleted()
    return handle
  }

  /** Natively frees every allocation kept for reuse. */
  #releaseReused(handle: number): void {
    if (this.#reuseBytes === 0) return
    for (const offsets of this.#reuse.values()) {
      for (const offset of offsets) {
        this.#live.delete(offset)
        hot.poolFree(handle, offset)
      }
      offsets.length = 0
    }
    this.#reuseBytes = 0
  }

  /**
   * Runs a native allocation; when the pool is full and allocations are
   * kept for reuse, frees them and tries once more.
   */
  #allocate(handle: number, allocate: () => number): number {
    const offset = allocate()
    if (offset >= 0 || this.#reuseBytes === 0) return offset
    this.#releaseReused(handle)
    return allocate()
  }

  #view(offset: number, size: number): Uint8Array {
    if (offset < 0) throw lastError()
    const view = new Uint8Array(this.#memory as ArrayBuffer, offset, size)
    this.#live.set(offset, view)
    return view
  }

  /** The offset of `view` if it is a live allocation of this pool. */
  #liveOffset(view: unknown, name: string): number {
    if (!ArrayBuffer.isView(view)) throw invalidArgType(name, 'a Uint8Array from this pool', view)
    // Identity with the view handed out: a subarray, a copy, a freed view or
    // another pool's view is never that object.
    const offset = view.byteOffset
    if (this.#live.get(offset) !== view) {
      throw errnoError(
        EINVAL,
        `${name} is not a live allocation of this pool (freed already, a subarray, or not from this pool)`,
      )
    }
    return offset
  }

  /** The size of the pool's memory in bytes (0 once deleted). */
  get size(): number {
    return this.#handle < 0 ? 0 : this.#size
  }

  /** Whether {@link Pool.delete} was called. */
  get deleted(): boolean {
    return this.#handle < 0
  }

  /**
   * Allocates `size` bytes (libvmem's `vmem_malloc`) and returns a view of
   * exactly `size` bytes over them. The contents are not zeroed.
   *
   * @throws {@link VmemError} `ENOMEM` when the pool is full.
   */
  malloc(size: number): Uint8Array {
    const handle = this.#use()
    checkCount('size', size)
    const sizeOfClass = sizeClass(size)
    const kept = this.#reuse.get(sizeOfClass)
    if (kept !== undefined && kept.length > 0) {
      this.#reuseBytes -= sizeOfClass
      return this.#view(kept.pop() as number, size)
    }
    return this.#view(
      this.#allocate(handle, () => hot.poolMalloc(handle, size)),
      size,
    )
  }

  /**
   * Allocates `nmemb * size` zeroed bytes (libvmem's `vmem_calloc`).
   *
   * @throws {@link VmemError} `ENOMEM` when the pool is full or the product
   * overflows.
   */
  calloc(nmemb: number, size: number): Uint8Array {
    const handle = this.#use()
    checkCount('nmemb', nmemb)
    checkCount('size', size)
    const total = nmemb * size
    if (!Number.isSafeInteger(total)) {
      throw errnoError(osConstants.errno.ENOMEM, `calloc size ${nmemb} * ${size} overflows`)
    }
    return this.#view(
      this.#allocate(handle, () => hot.poolCalloc(handle, nmemb, size)),
      total,
    )
  }

  /**
   * Allocates `size` bytes at an address that is a multiple of `alignment`,
   * a power of two (libvmem's `vmem_aligned_alloc`). The pool starts on a
   * page boundary, so the view's `byteOffset` is a multiple of `alignment`
   * up to the page size (4096); larger alignments hold for the address.
   *
   * @throws {@link VmemError} `EINVAL` when `alignment` is not a power of
   * two, `ENOMEM` when the pool is full.
   */
  alignedAlloc(alignment: number, size: number): Uint8Array {
    const handle = this.#use()
    checkCount('alignment', alignment)
    checkCount('size', size)
    return this.#view(
      this.#allocate(handle, () => hot.poolAlignedAlloc(handle, alignment, size)),
      size,
    )
  }

  /**
   * Resizes an allocation, keeping its contents up to the smaller size
   * (libvmem's `vmem_realloc`). `null` allocates; a size of 0 frees `view` and
   * returns `null`. On success `view` is no longer live (it may still read
   * stale data); on failure it is untouched.
   *
   * @throws {@link VmemError} `ENOMEM`; `EINVAL` when `view` is not a live
   * allocation of this pool.
   */
  realloc(view: PoolView | null, size: number): Uint8Array | null {
    const handle = this.#use()
    checkCount('size', size)
    if (view === null) return this.malloc(size)
    const offset = this.#liveOffset(view, 'view')
    if (size === 0) {
      this.#live.delete(offset)
      hot.poolFree(handle, offset)
      return null
    }
    const moved = this.#allocate(handle, () => hot.poolRealloc(handle, offset, size))
    if (moved < 0) throw lastError()
    this.#live.delete(offset)
    return this.#view(moved, size)
  }

  /**
   * Frees an allocation (libvmem's `vmem_free`); `null` does nothing.
   *
   * @throws {@link VmemError} `EINVAL` when `view` is not a live allocation of
   * this pool: freed already, a subarray, another pool's, or a plain array.
   */
  free(view: PoolView | null): void {
    const handle = this.#use()
    if (view === null) return
    const offset = this.#liveOffset(view, 'view')
    // Kept for the next malloc of its class when there is room; an object
    // from alignedAlloc may be larger than its class, never smaller.
    const sizeOfClass = sizeClass(view.byteLength)
    if (this.#reuseBytes + sizeOfClass <= this.#reuseLimit) {
      let kept = this.#reuse.get(sizeOfClass)
      if (kept === undefined) this.#reuse.set(sizeOfClass, (kept = []))
      if (kept.length < REUSE_PER_CLASS) {
        this.#live.set(offset, null)
        kept.push(offset)
        this.#reuseBytes += sizeOfClass
        return
      }
    }
    this.#live.delete(offset)
    hot.poolFree(handle, offset)
  }

  /**
   * The usable size of an allocation: at least what was asked for (libvmem's
   * `vmem_malloc_usable_size`).
   */
  mallocUsableSize(view: PoolView): number {
    const handle = this.#use()
    return hot.poolUsableSize(handle, this.#liveOffset(view, 'view'))
  }

  /**
   * Copies a string into the pool as UTF-8 followed by a NUL byte (libvmem's
   * `vmem_strdup`); the view's length includes the NUL.
   */
  strdup(s: string): Uint8Array {
    this.#use()
    checkString('s', s)
    const length = Buffer.byteLength(s, 'utf8')
    const view = this.malloc(length + 1)
    utf8.encodeInto(s, view)
    view[length] = 0
    return view
  }

  /**
   * Copies a string into the pool as UTF-32 code points followed by a 0
   * (libvmem's `vmem_wcsdup`, with a 4-byte `wchar_t`).
   */
  wcsdup(s: string): Uint32Array {
    const handle = this.#use()
    checkString('s', s)
    const codePoints = Array.from(s, (char) => char.codePointAt(0) as number)
    const count = codePoints.length + 1
    const offset = this.#allocate(handle, () => hot.poolAlignedAlloc(handle, 4, count * 4))
    if (offset < 0) throw lastError()
    const view = new Uint32Array(this.#memory as ArrayBuffer, offset, count)
    view.set(codePoints)
    view[count - 1] = 0
    this.#live.set(offset, view)
    return view
  }

  /**
   * Checks the pool's internal consistency (libvmem's `vmem_check`): `false`
   * when another live pool shares its memory or its allocator state is off.
   *
   * @throws {@link VmemError} when the check cannot run.
   */
  check(): boolean {
    const result = binding.poolCheck(this.#use())
    if (result < 0) throw lastError()
    return result === 1
  }

  /** A snapshot of the pool's statistics. */
  stats(): PoolStats {
    const handle = this.#use()
    this.#releaseReused(handle)
    const stats = binding.poolStats(handle)
    if (stats === null) throw poolDeleted()
    return stats
  }

  /**
   * Prints the pool's statistics, jemalloc style, through the print function
   * (see {@link setFuncs}). Each character of `opts` leaves a part out: `g`
   * general information, `m` pool totals, `a` the per-arena part, `b` its
   * bins, `l` its large classes.
   */
  statsPrint(opts: string = ''): void {
    const handle = this.#use()
    checkString('opts', opts)
    this.#releaseReused(handle)
    const text = binding.poolStatsText(handle, opts)
    if (printFunction !== null) printFunction(text)
    else binding.printDefault(text)
  }

  /**
   * Releases the pool (libvmem's `vmem_delete`); its file space goes back to
   * the file system. Every view of the pool then reads as length 0 and every
   * method throws. Calling it again does nothing.
   */
  delete(): void {
    const handle = this.#handle
    if (handle < 0) return
    this.#handle = -1
    this.#live.clear()
    this.#reuse.clear()
    this.#reuseBytes = 0
    collected.unregister(this)
    binding.poolDelete(handle, this.#memory)
    this.#memory = null
  }

  /** Same as {@link Pool.delete}, for `using pool = Pool.create(...)`. */
  [Symbol.dispose](): void {
    this.delete()
  }
}
