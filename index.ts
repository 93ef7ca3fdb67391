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

// Built-ins captured when this module loads. Whatever user code redefines
// later — a property of a view (`byteLength`, `byteOffset`, ...), a prototype
// (`Map.prototype.get`, `Array.prototype.pop`, a view's prototype chain), a
// global (`Math.clz32`, `Uint8Array`) — the library reads the internal slots
// of views and buffers and runs its own bookkeeping unchanged, so no trick
// can make it free, reuse or hand out the wrong block.

/** `fn` as a plain function taking its `this` first (Node.js's uncurryThis). */
function uncurry<This, Args extends unknown[], R>(
  fn: (this: This, ...args: Args) => R,
): (self: This, ...args: Args) => R {
  return Function.prototype.call.bind(fn) as unknown as (self: This, ...args: Args) => R
}

function intrinsicGetter<T>(proto: object, name: string | symbol): ((self: unknown) => T) | undefined {
  const get = Object.getOwnPropertyDescriptor(proto, name)?.get
  return get === undefined ? undefined : uncurry(get as (this: unknown) => T)
}

const TypedArrayPrototype: object = Object.getPrototypeOf(Uint8Array.prototype) as object
/** The name of a typed array's class, or undefined for anything else (never throws). */
const typedArrayTag = intrinsicGetter<string | undefined>(TypedArrayPrototype, Symbol.toStringTag)!
/** A typed array's real byteOffset and byteLength, from its internal slots. */
const typedArrayByteOffset = intrinsicGetter<number>(TypedArrayPrototype, 'byteOffset')!
const typedArrayByteLength = intrinsicGetter<number>(TypedArrayPrototype, 'byteLength')!
/** Throw a TypeError unless given a real ArrayBuffer (or SharedArrayBuffer). */
const arrayBufferByteLength = intrinsicGetter<number>(ArrayBuffer.prototype, 'byteLength')!
const sharedArrayBufferByteLength =
  typeof SharedArrayBuffer === 'undefined'
    ? undefined
    : intrinsicGetter<number>(SharedArrayBuffer.prototype, 'byteLength')
/** Whether a buffer can change length (absent on Node.js versions without resizable buffers). */
const arrayBufferResizable = intrinsicGetter<boolean>(ArrayBuffer.prototype, 'resizable')
const sharedArrayBufferGrowable =
  typeof SharedArrayBuffer === 'undefined'
    ? undefined
    : intrinsicGetter<boolean>(SharedArrayBuffer.prototype, 'growable')

const { ceil, clz32, floor, max, min } = Math
const { isInteger, isSafeInteger } = Number
const { defineProperty } = Object
const U8 = Uint8Array
const codePointAt = uncurry(String.prototype.codePointAt as (this: string, pos: number) => number | undefined)
const utf8ByteLength = Buffer.byteLength
const encodeInto = uncurry(
  TextEncoder.prototype.encodeInto as (
    this: InstanceType<typeof TextEncoder>,
    s: string,
    into: Uint8Array,
  ) => { read: number; written: number },
)
const U32 = Uint32Array
const WeakSetHas = uncurry(WeakSet.prototype.has as (this: WeakSet<object>, value: object) => boolean)
const WeakSetAdd = uncurry(WeakSet.prototype.add as (this: WeakSet<object>, value: object) => WeakSet<object>)

/**
 * A Map whose methods are the ones Map.prototype had when this module
 * loaded, as Node.js's own SafeMap: later changes to Map.prototype do not
 * reach it.
 */
class SafeMap<K, V> extends Map<K, V> {}
for (const key of Reflect.ownKeys(Map.prototype)) {
  if (key !== 'constructor') {
    defineProperty(SafeMap.prototype, key, Object.getOwnPropertyDescriptor(Map.prototype, key)!)
  }
}
Object.freeze(SafeMap.prototype)

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

/** The errno names a {@link VmemError} carries. */
export type VmemErrorCode =
  'EINVAL' | 'ENOMEM' | 'ENOENT' | 'ENOTDIR' | 'EACCES' | 'ENOSPC' | 'EBUSY' | (string & {})

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
  if (!isSafeInteger(value) || value < 0) {
    throw outOfRange(name, 'an integer >= 0 and <= 9007199254740991', value)
  }
  return value
}

function checkUint32(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!isInteger(value) || value < 0 || value > 0xffffffff) {
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

/** Plain ArrayBuffers that hold (or held) a region pool: never detached. */
const pinnedRegions = new WeakSet<object>()

function regionPinned(): VmemError {
  return errnoError(EINVAL, 'this ArrayBuffer holds a vmem pool and cannot be transferred')
}

type Transfer = (this: ArrayBuffer, newLength?: number) => ArrayBuffer
const transferMethods = ['transfer', 'transferToFixedLength'] as const

/**
 * Whether `ArrayBuffer.prototype.transfer` detaches a buffer marked
 * untransferable (Node.js 22 does; 24 refuses by itself; 20 has no
 * `transfer`).
 */
function transferIgnoresUntransferable(): boolean {
  const transfer = (ArrayBuffer.prototype as unknown as Record<string, Transfer | undefined>).transfer
  if (typeof transfer !== 'function') return false
  const probe = new ArrayBuffer(8)
  markAsUntransferable(probe)
  try {
    Reflect.apply(transfer, probe, [])
    return true
  } catch {
    return false
  }
}

// Where Node.js would let `transfer()` move a region's memory away from under
// its pool (a use after free), `transfer` and `transferToFixedLength` refuse
// the buffers that hold a pool and behave as before for every other buffer.
if (transferIgnoresUntransferable()) {
  const prototype = ArrayBuffer.prototype as unknown as Record<string, Transfer | undefined>
  for (const name of transferMethods) {
    const original = prototype[name]
    if (typeof original !== 'function') continue
    const guarded = {
      [name](this: ArrayBuffer, ...args: [number?]): ArrayBuffer {
        if (typeof this === 'object' && this !== null && WeakSetHas(pinnedRegions, this)) throw regionPinned()
        return Reflect.apply(original, this, args) as ArrayBuffer
      },
    }[name]
    defineProperty(prototype, name, { value: guarded, writable: true, enumerable: false, configurable: true })
  }
}

/**
 * Keeps a region's ArrayBuffer from being detached while a pool lives in it,
 * and afterwards: postMessage and structuredClone refuse to transfer it, and
 * so do `transfer()` and `transferToFixedLength()`.
 */
function pin(region: ArrayBuffer): void {
  markAsUntransferable(region)
  WeakSetAdd(pinnedRegions, region)
}

/** Whether `value` is a real ArrayBuffer (not a SharedArrayBuffer, not a look-alike). */
function isArrayBuffer(value: unknown): value is ArrayBuffer {
  try {
    arrayBufferByteLength(value)
    return true
  } catch {
    return false
  }
}

/** Whether `value` is a real SharedArrayBuffer. */
function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  if (sharedArrayBufferByteLength === undefined) return false
  try {
    sharedArrayBufferByteLength(value)
    return true
  } catch {
    return false
  }
}

/** Forgets the handles of pools collected without `delete()`. */
const collected = new FinalizationRegistry<number>((handle) => binding.poolRelease(handle))
const registerCollected = uncurry(
  FinalizationRegistry.prototype.register as (
    this: FinalizationRegistry<number>,
    target: object,
    held: number,
    token: object,
  ) => void,
)
const unregisterCollected = uncurry(
  FinalizationRegistry.prototype.unregister as (this: FinalizationRegistry<number>, token: object) => boolean,
)

const poolDeleted = (): VmemError => errnoError(EINVAL, 'the pool was deleted')

/** The largest class of four per doubling; larger requests round up to pages. */
const CLASSES_MAX = 2 ** 20
/** jemalloc's page. */
const PAGE = binding.usableSizeFor(CLASSES_MAX + 1) - CLASSES_MAX

/**
 * The usable size a pool gives a request of `size` bytes, computed here
 * because asking native code costs more than the allocation: 8, then 16,
 * 32, 48, 64, then four classes per doubling (80, 96, 112, 128, 160, …) up to
 * {@link CLASSES_MAX}, then whole pages. A test checks it against the native
 * `mallocUsableSize` for every size up to 4 KiB and many beyond.
 */
function sizeClass(size: number): number {
  if (size <= 8) return 8
  if (size > CLASSES_MAX) return ceil(size / PAGE) * PAGE
  // Small integers: shifts and masks, no floating point on the hot path.
  const spacing = 1 << max(4, 29 - clz32(size - 1))
  return (size + spacing - 1) & -spacing
}

/** Whether {@link sizeClass} agrees with this jemalloc; reuse is off if not. */
const SIZE_CLASSES_MATCH = [1, 9, 17, 100, 1000, 5000, 14_337, 33_000, CLASSES_MAX, CLASSES_MAX + 1].every(
  (size) => sizeClass(size) === binding.usableSizeFor(size),
)

/** Freed allocations kept per size class for reuse, at most this many… */
const REUSE_PER_CLASS = 64
/** …and at most this share of the pool, or this many bytes, in all. */
const REUSE_POOL_SHARE = 1 / 32
const REUSE_MAX_BYTES = 16 * 1024 * 1024
const F64 = Float64Array

/**
 * Offsets kept for reuse in one size class: a fixed stack in a typed array,
 * which no prototype change reaches (an Array's `pop` could be replaced).
 */
class OffsetStack {
  readonly offsets = new F64(REUSE_PER_CLASS)
  count = 0
}
const utf8 = new TextEncoder()

/**
 * A pool of volatile memory on a memory-mapped file (libvmem's `VMEM *`).
 *
 * Allocations are views straight over the pool's memory. Every misuse — a
 * double free, a subarray, another pool's view, a call after
 * {@link Pool.delete} — throws instead of corrupting anything; after
 * `delete()` every view of the pool reads as length 0. The library reads a
 * view's offset and length from its internal slots, so redefining
 * `byteLength` or `byteOffset` on a view (or on a prototype) changes nothing.
 *
 * **Do not `postMessage` or `structuredClone` a view.** A view's `buffer` is
 * the whole pool, and Node.js clones a typed array together with its whole
 * buffer: posting a 16-byte view of a 1 GiB pool copies 1 GiB (seconds, and
 * 2 GiB more memory), and the worker gets a private copy, not the block.
 * No Node.js version offers a way to make such a clone fail
 * (`markAsUncloneable` does not apply to ArrayBuffers). Post the bytes you
 * mean instead, e.g. `postMessage(view.slice())`, or hand the block's
 * position and let the other thread read it from memory it shares.
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
  readonly #live = new SafeMap<number, PoolView | null>()
  readonly #size: number
  /**
   * Offsets of freed allocations by size class, still allocated natively:
   * a `malloc` of the same class takes one back without crossing into
   * native code, which costs more than the allocation itself. Emptied
   * before anything that must see them freed (stats, out of memory).
   */
  readonly #reuse = new SafeMap<number, OffsetStack>()
  #reuseBytes = 0
  readonly #reuseLimit: number

  private constructor(handle: number) {
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
    // the mapping to the new owner (see poolDelete). A region pool's buffer
    // is held by the native pool itself, until the pool is dropped.
    this.#handle = handle
    this.#memory = memory
    this.#size = memory.byteLength
    this.#reuseLimit = SIZE_CLASSES_MATCH ? min(REUSE_MAX_BYTES, floor(this.#size * REUSE_POOL_SHARE)) : 0
    registerCollected(collected, this, handle, this)
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
    // As Node.js's fs: a NUL byte would end the path early in a system call.
    if (dir.includes('\0')) throw errnoError(EINVAL, 'the directory path contains a NUL byte')
    const handle = binding.createPool(dir, size)
    if (handle < 0) throw lastError()
    return new Pool(handle)
  }

  /**
   * Creates a pool inside a buffer you own (libvmem's
   * `vmem_create_in_region`), using its interior from the first page boundary
   * past its first byte (see {@link PAGE_SIZE}); its old contents are lost.
   * The buffer is kept alive while the pool or any view of it lives. A plain
   * ArrayBuffer becomes untransferable for good (postMessage, structuredClone
   * and `transfer()` refuse it), so its memory can never move away from
   * under the pool.
   *
   * Memory is never shared by two pools: a buffer that a live pool of this
   * process already uses — the same buffer twice, a SharedArrayBuffer that
   * another thread made a pool in, or a pool's own memory (`view.buffer`) —
   * is refused with `EBUSY`. (The C and Rust faces keep libvmem's behaviour
   * there: they allow it, and `check` reports both pools inconsistent.)
   *
   * Do not pass a `WebAssembly.Memory`'s buffer: growing the memory detaches
   * it (Node.js 24 aborts then, the buffer being pinned), and no JavaScript
   * check can tell such a buffer from another.
   *
   * @throws {@link VmemError} `EINVAL` when the interior is smaller than
   * {@link MIN_POOL}; `EBUSY` when the buffer overlaps the memory of a live
   * pool.
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for anything but an
   * ArrayBuffer or SharedArrayBuffer; (`ERR_INVALID_ARG_VALUE`) for a
   * resizable ArrayBuffer or growable SharedArrayBuffer (made with
   * `maxByteLength`), whose memory could shrink from under the pool.
   */
  static createInRegion(region: ArrayBuffer | SharedArrayBuffer): Pool {
    // Brand checks through the intrinsic getters: an object that merely
    // inherits from ArrayBuffer.prototype would be copied by `new Uint8Array`
    // into a temporary buffer the pool would outlive.
    const shared = isSharedArrayBuffer(region)
    if (!shared && !isArrayBuffer(region)) {
      throw invalidArgType('region', 'an instance of ArrayBuffer or SharedArrayBuffer', region)
    }
    const resizable = shared ? sharedArrayBufferGrowable?.(region) : arrayBufferResizable?.(region)
    if (resizable === true) {
      throw withCode(
        new TypeError(
          `The "region" argument must be a fixed-length ${shared ? 'SharedArrayBuffer' : 'ArrayBuffer'}: ` +
            `a pool cannot live in memory that can ${shared ? 'grow' : 'shrink'}. Received a ` +
            `${shared ? 'growable SharedArrayBuffer' : 'resizable ArrayBuffer'} (maxByteLength)`,
        ),
        'ERR_INVALID_ARG_VALUE',
      )
    }
    const handle = binding.createPoolInRegion(new U8(region), region)
    if (handle < 0) throw lastError()
    if (!shared) pin(region as ArrayBuffer)
    return new Pool(handle)
  }

  #use(): number {
    const handle = this.#handle
    if (handle < 0) throw poolDeleted()
    return handle
  }

  /** Natively frees every allocation kept for reuse. */
  #releaseReused(handle: number): void {
    if (this.#reuseBytes === 0) return
    // forEach, not for-of: a Map iterator's `next` can be replaced.
    this.#reuse.forEach((kept) => {
      while (kept.count > 0) {
        const offset = kept.offsets[--kept.count] as number
        this.#live.delete(offset)
        hot.poolFree(handle, offset)
      }
    })
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
    const view = new U8(this.#memory as ArrayBuffer, offset, size)
    this.#live.set(offset, view)
    return view
  }

  /** The offset of `view` if it is a live allocation of this pool. */
  #liveOffset(view: unknown, name: string): number {
    // Typed arrays only (a Proxy, a DataView or a look-alike is refused), and
    // their offset read from the internal slot, never through a property.
    if (typedArrayTag(view) === undefined) throw invalidArgType(name, 'a Uint8Array from this pool', view)
    // Identity with the view handed out: a subarray, a copy, a freed view or
    // another pool's view is never that object.
    const offset = typedArrayByteOffset(view)
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
   * exactly `size` bytes over them. The contents are not zeroed. The view's
   * `buffer` is the whole pool: post `view.slice()`, never the view (see
   * {@link Pool}).
   *
   * @throws {@link VmemError} `ENOMEM` when the pool is full.
   */
  malloc(size: number): Uint8Array {
    const handle = this.#use()
    checkCount('size', size)
    const sizeOfClass = sizeClass(size)
    const kept = this.#reuse.get(sizeOfClass)
    if (kept !== undefined && kept.count > 0) {
      this.#reuseBytes -= sizeOfClass
      return this.#view(kept.offsets[--kept.count] as number, size)
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
    if (!isSafeInteger(total)) {
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
   * up to the system's page size (4096 on most Linux systems, 16384 on Apple
   * Silicon); larger alignments hold for the address.
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
    // The length from the view's internal slot: a `byteLength` property user
    // code defined on the view (or its prototype chain) never counts.
    const sizeOfClass = sizeClass(typedArrayByteLength(view))
    if (this.#reuseBytes + sizeOfClass <= this.#reuseLimit) {
      let kept = this.#reuse.get(sizeOfClass)
      if (kept === undefined) this.#reuse.set(sizeOfClass, (kept = new OffsetStack()))
      if (kept.count < REUSE_PER_CLASS) {
        this.#live.set(offset, null)
        kept.offsets[kept.count++] = offset
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
    const length = utf8ByteLength(s, 'utf8')
    const view = this.malloc(length + 1)
    encodeInto(utf8, s, view)
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
    // Code points counted, then written, through the captured codePointAt: no
    // user code (a replaced string iterator, Array.from or set) runs between
    // the handle check and the view's registration.
    let count = 1
    for (let i = 0; i < s.length; count++) i += (codePointAt(s, i) as number) > 0xffff ? 2 : 1
    const offset = this.#allocate(handle, () => hot.poolAlignedAlloc(handle, 4, count * 4))
    if (offset < 0) throw lastError()
    const view = new U32(this.#memory as ArrayBuffer, offset, count)
    for (let i = 0, n = 0; i < s.length; n++) {
      const codePoint = codePointAt(s, i) as number
      view[n] = codePoint
      i += codePoint > 0xffff ? 2 : 1
    }
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
    unregisterCollected(collected, this)
    binding.poolDelete(handle, this.#memory)
    this.#memory = null
  }

  /** Same as {@link Pool.delete}, for `using pool = Pool.create(...)`. */
  [Symbol.dispose](): void {
    this.delete()
  }
}
