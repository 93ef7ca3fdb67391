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

import { binding, hot, type Binding } from './lib/binding.js'
import {
  BUFFER,
  kindOf,
  kindOfView,
  type PoolArray,
  type PoolArrayConstructor,
  type ViewKind,
} from './lib/arrays.js'
import { classOf, ReuseLists } from './lib/classes.js'
import {
  checkCount,
  checkString,
  EINVAL,
  ENOMEM,
  errnoError,
  invalidArgType,
  lastError,
  memoryMoved,
  outOfRange,
  poolDeleted,
  VmemError,
  withCode,
} from './lib/errors.js'
import {
  arrayBufferByteLength,
  arrayBufferResizable,
  codePointAt,
  encodeInto,
  isSafeInteger,
  SafeMap,
  sharedArrayBufferGrowable,
  typedArrayByteLength,
  typedArrayTag,
  U8,
  uncurry,
  utf8ByteLength,
} from './lib/intrinsics.js'
import { isArrayBuffer, isSharedArrayBuffer, pin } from './lib/regions.js'
import { currentPrint } from './lib/library.js'
import { NOT_LIVE, NOT_SHARED, Stamp } from './lib/stamps.js'
import { readBlockRef, tokenPoolId, type BlockRef, type PoolToken } from './lib/tokens.js'

export { VmemError, type VmemErrorCode } from './lib/errors.js'
export type { BlockRef, PoolToken } from './lib/tokens.js'
export type { PoolArray, PoolArrayConstructor } from './lib/arrays.js'

export {
  MIN_POOL,
  PAGE_SIZE,
  MAJOR_VERSION,
  MINOR_VERSION,
  setFuncs,
  checkVersion,
  usableSizeFor,
  errormsg,
  type Funcs,
} from './lib/library.js'

/** Statistics of one pool, in bytes unless named otherwise: the fields are documented where the native side defines them. */
export type PoolStats = Binding.NativeStats

/**
 * A view that a pool handed out: what `malloc` & co. return — a
 * `Uint8Array`, a `Uint32Array` from `wcsdup`, any typed array from
 * `allocArray`, a `Buffer` from `allocBuffer`.
 */
export type PoolView = PoolArray

/**
 * A Pool's native handle as its finalizer sees it: -1 once `delete()` ended
 * the handle, which a field write does (a write cannot throw; the
 * unregistering after it is a call, which a stack overflow can cut short,
 * and a finalizer left registered must not release the slot's next pool).
 */
interface Registration {
  handle: number
}

/** Forgets the handles of pools collected without `delete()`. */
const collected = new FinalizationRegistry<Registration>((registration) => {
  if (registration.handle >= 0) binding.poolRelease(registration.handle)
})
const registerCollected = uncurry(
  FinalizationRegistry.prototype.register as (
    this: FinalizationRegistry<Registration>,
    target: object,
    held: Registration,
    token: object,
  ) => void,
)
const unregisterCollected = uncurry(
  FinalizationRegistry.prototype.unregister as (
    this: FinalizationRegistry<Registration>,
    token: object,
  ) => boolean,
)

/**
 * Native handles made for a Pool that was never made: the stack ran out (or
 * the pool's memory could not be mapped into JavaScript) between the native
 * call and the Pool's registration (see Pool.#make). Each is released once:
 * at once, or by the next pool made or deleted.
 */
const orphans: number[] = []
// No prototype: a store past the end would otherwise run a setter a user
// put on Array.prototype (a call, which can overflow or throw).
Object.setPrototypeOf(orphans, null)

/**
 * Deletes the pool of every orphaned handle, at once: an ArrayBuffer over
 * its memory that the Pool's constructor may have made is unreachable, so
 * the pool need not wait for it to be collected. Each handle leaves the list
 * after its deletion.
 */
function releaseOrphans(): void {
  for (let last = orphans.length - 1; last >= 0; last = orphans.length - 1) {
    binding.poolDelete(orphans[last] as number, null)
    orphans.length = last
  }
}

const utf8 = new TextEncoder()
/** The error for `view`, passed as `name`, that is no live allocation of the pool. */
function notLive(view: unknown, name: string): Error {
  // Typed arrays only (a Proxy, a DataView or a look-alike is refused).
  if (typedArrayTag(view) === undefined) return invalidArgType(name, 'a Uint8Array from this pool', view)
  return errnoError(
    EINVAL,
    `${name} is not a live allocation of this pool (freed already, a subarray, or not from this pool)`,
  )
}

/** {@link Pool.#unclaimed} while a {@link Pool.ref} lists its block. */
const UNFINISHED_REF = -2
/** wcsdup's views: UTF-32 code points. */
const UINT32 = kindOf(Uint32Array)

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
 * mean instead, e.g. `postMessage(view.slice())`, or share the block itself:
 * post {@link Pool.share}'s token once and {@link Pool.ref}'s description
 * of each block, and let the other thread take its view with
 * {@link Pool.view}.
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
   * This handle's views of blocks known by reference (see {@link Pool.ref}),
   * by offset: {@link Pool.view} gives the same view each time. Which views
   * are live allocations is written on the views themselves (lib/stamps.ts).
   */
  readonly #sharedViews = new SafeMap<number, PoolView>()
  /**
   * What this handle's views carry as their owner (lib/stamps.ts): a plain
   * object rather than the Pool, so that a live view does not keep the Pool
   * from being collected.
   */
  readonly #owner = {}
  readonly #size: number
  /** Freed allocations kept for the next malloc of their class (see ReuseLists). */
  readonly #reuse: ReuseLists
  /**
   * The offset of a block this handle holds that no live view reaches — one
   * taken for a view not yet handed out, or one whose view just ended and
   * that is not yet given back — or -1, or {@link UNFINISHED_REF}.
   *
   * Any call can throw a RangeError when the stack runs out, so an
   * allocation or a free that overflows between its native call and the
   * view's stamp would otherwise strand its block for good (or leave a live
   * view of a freed block). A field write cannot throw: each such step
   * writes the block here before its first call and clears it after its
   * last, and the handle's next call ({@link Pool.#use}) gives back what an
   * overflow left. So no user code may run inside such a step: a call into
   * the pool from there would give the block back under its view (see
   * BUFFER in lib/arrays.ts). The writes cost about 5 % of a 64 B pair; a
   * try around malloc's view instead cost 16-31 % (bench/ab-js.mjs, both
   * orders).
   *
   * A handle that is never called again after such an overflow — a shared
   * pool's handle dropped without `delete()`, or its worker gone — keeps
   * that one block until the pool goes (a pool of one handle goes with it).
   * Keeping the offset where the finalizer could see it instead cost about
   * 7 % of a 64 B pair.
   */
  #unclaimed = -1
  /** The view whose {@link Pool.ref} a stack overflow cut short, while {@link Pool.#unclaimed} says so. */
  #unshared: PoolView | null = null
  /** What this handle's finalizer releases (see {@link Registration}). */
  readonly #registration: Registration

  /**
   * Only through {@link Pool.#make}, which releases `handle` if this throws.
   * `region` is the plain ArrayBuffer the pool lives in, to pin.
   */
  private constructor(handle: number, region: ArrayBuffer | null, attached: boolean) {
    let memory: ArrayBuffer
    try {
      memory = binding.poolMemory(handle)
    } catch (err) {
      throw errnoError(
        ENOMEM,
        `cannot map the pool into JavaScript (${(err as Error).message}); ` +
          'Node.js 20 limits an ArrayBuffer to 4 GiB, Node.js 22 and newer do not',
      )
    }
    // Node.js copies or refuses this ArrayBuffer in postMessage and
    // structuredClone; if `memory.transfer()` moves it away, allocations
    // throw EINVAL (no view can be made: see #unviewable), free still works
    // and delete() leaves the mapping to the new owner (see poolDelete). A
    // region pool's buffer is held by the native pool itself, until the pool
    // is dropped.
    this.#handle = handle
    this.#memory = memory
    this.#size = memory.byteLength
    this.#reuse = new ReuseLists(this.#size)
    // An attached handle keeps nothing for reuse (see #stopReuse).
    if (attached) this.#reuse.disable()
    this.#registration = { handle }
    if (region !== null) pin(region)
    // Last: once registered, nothing here throws.
    registerCollected(collected, this, this.#registration, this)
  }

  /**
   * A Pool over the native handle `open` makes (-1 throws its error). A
   * handle left without a Pool — the stack ran out between the native call
   * and the Pool's registration — is released, never stranded with its
   * mapping and file space: the native call runs inside this frame, so the
   * handle is in hand before any call that can throw.
   */
  static #make(open: () => number, region: ArrayBuffer | null = null, attached = false): Pool {
    releaseOrphans()
    const handle = open()
    if (handle < 0) throw lastError()
    try {
      return new Pool(handle, region, attached)
    } catch (error) {
      // A write, which cannot throw, before anything else.
      orphans[orphans.length] = handle
      releaseOrphans()
      throw error
    }
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
    return Pool.#make(() => binding.createPool(dir, size))
  }

  /**
   * {@link Pool.create} with the file work (reserving `size` bytes: ~250 ms
   * for 1 GiB on tmpfs) on libuv's thread pool rather than the event loop.
   * Rejects with the same errors as `create` throws.
   *
   * @example
   * ```ts
   * const pool = await Pool.createAsync('/dev/shm', 1 << 30)
   * ```
   */
  static async createAsync(dir: string, size: number): Promise<Pool> {
    checkString('dir', dir)
    checkCount('size', size)
    if (dir.includes('\0')) throw errnoError(EINVAL, 'the directory path contains a NUL byte')
    const created = await binding.createPoolAsync(dir, size)
    if (created.handle < 0) throw errnoError(created.errno, created.message)
    return Pool.#make(() => created.handle)
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
    const whole = new U8(region)
    return Pool.#make(
      () => binding.createPoolInRegion(whole, region),
      shared ? null : (region as ArrayBuffer),
    )
  }

  /**
   * A token for this pool that any thread of this process — a worker
   * included — passes to {@link Pool.attach} for a handle of its own: post
   * it with `postMessage` (it is a plain object). Each handle allocates and
   * frees on its own thread; the pool lives until its last handle is
   * deleted or collected.
   *
   * @throws {@link VmemError} `EINVAL` for a pool made by
   * {@link Pool.createInRegion}: its buffer belongs to this thread.
   *
   * @example
   * ```ts
   * const worker = new Worker('./worker.js')
   * worker.postMessage(pool.share())
   * // in the worker: parentPort.once('message', (token) => { const pool = Pool.attach(token) })
   * ```
   */
  share(): PoolToken {
    const handle = this.#use()
    const poolId = binding.poolShare(handle)
    if (poolId < 0) throw lastError()
    this.#stopReuse(handle)
    return { poolId, pid: process.pid }
  }

  /**
   * This thread's handle of the pool a {@link Pool.share} token names. The
   * handle is a `Pool` like any other; its {@link Pool.delete} ends this
   * handle only.
   *
   * @throws {@link VmemError} `EINVAL` when the pool is gone (every handle
   * deleted or collected) or `token` is not a token of this process.
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`) when `token` is not an object.
   */
  static attach(token: PoolToken): Pool {
    const poolId = tokenPoolId(token)
    return Pool.#make(() => binding.attachPool(poolId), null, true)
  }

  #use(): number {
    const handle = this.#handle
    if (handle < 0 || this.#unclaimed !== -1) return this.#useRareCase(handle)
    return handle
  }

  /** {@link Pool.#use}'s rare cases, apart to keep the hot paths small (see #view). */
  #useRareCase(handle: number): number {
    if (handle < 0) throw poolDeleted()
    this.#finishCutShort(handle)
    return handle
  }

  /**
   * Finishes what a stack overflow cut short (see {@link Pool.#unclaimed}):
   * gives the block back, or lists the view a ref was making shareable.
   */
  #finishCutShort(handle: number): void {
    const offset = this.#unclaimed
    if (offset >= 0) return this.#giveBack(offset)
    const view = this.#unshared as PoolView
    // Listed natively already, or not: listing is idempotent.
    if (Stamp.generation(view, this.#owner) === NOT_SHARED) this.#share(handle, view, Stamp.offset(view))
    this.#unshared = null
    this.#unclaimed = -1
  }

  /**
   * Keeps no freed allocation in JavaScript from now on (a shared pool's
   * handles): freed blocks go to the native caches, which any thread can
   * take back when the pool is full and which a thread's exit empties.
   */
  #stopReuse(handle: number): void {
    this.#reuse.disable()
    this.#releaseReused(handle)
  }

  /** Natively frees every allocation kept for reuse. */
  #releaseReused(handle: number): void {
    this.#reuse.drain((offset) => hot.poolFree(handle, offset))
  }

  /**
   * Runs a native allocation of `bytes` bytes: the one place that decides to
   * give memory back and retry. The core already gives back every thread's
   * native caches and retries before it fails, so only what JavaScript keeps
   * is left: when that is anything, it goes back and the allocation runs
   * once more. Before a large allocation (1/64 of the pool or more) it goes
   * back first, as the core's own caches do: the blocks kept are scattered
   * through the pool, and a large block placed among them would cut the
   * pool's free space for good once they are freed.
   */
  #allocate(handle: number, bytes: number, allocate: () => number): number {
    if (bytes >= this.#size / 64 && !this.#reuse.empty) this.#releaseReused(handle)
    // Each offset goes to #unclaimed before any other call; -1, a failure,
    // holds nothing.
    const offset = allocate()
    if (offset >= 0 || this.#reuse.empty || binding.lastErrno() !== ENOMEM) {
      this.#unclaimed = offset
      return offset
    }
    this.#releaseReused(handle)
    const retried = allocate()
    this.#unclaimed = retried
    return retried
  }

  /**
   * A block of `bytes` bytes of class `sizeClass` — kept for reuse, or
   * natively allocated — held in {@link Pool.#unclaimed} until its view is
   * handed out; -1 when the pool is full.
   */
  #claim(handle: number, bytes: number, sizeClass: number): number {
    const kept = this.#reuse.take(sizeClass)
    if (kept < 0) return this.#claimNative(handle, bytes)
    this.#unclaimed = kept
    return kept
  }

  /** A block of `bytes` bytes from the native pool, as {@link Pool.#claim} holds one. */
  #claimNative(handle: number, bytes: number): number {
    return this.#allocate(handle, bytes, () => hot.poolMalloc(handle, bytes))
  }

  /** Natively frees `offset`, the block {@link Pool.#unclaimed} holds. */
  #giveBack(offset: number): void {
    hot.poolFree(this.#handle, offset)
    this.#unclaimed = -1
  }

  /**
   * Whether this handle's memory was moved away (`memory.transfer()` on
   * Node.js 22 and newer): its views read as length 0 and no new view can
   * be made over it. A pool's memory is never 0 bytes long otherwise.
   */
  #memoryMoved(): boolean {
    return arrayBufferByteLength(this.#memory as ArrayBuffer) === 0
  }

  /**
   * The error for a view that cannot be made over the block at `offset`,
   * just allocated (or taken back for reuse), as the pool's memory moved
   * away: the block goes back first, as no view will ever reach it.
   */
  #unviewable(offset: number): VmemError {
    this.#giveBack(offset)
    return memoryMoved()
  }

  /** A live view of `size` bytes at `offset`, of class `sizeClass` (a failed allocation's -1 throws). */
  #view(offset: number, size: number, sizeClass: number): Uint8Array {
    if (offset < 0) throw lastError()
    let view: Uint8Array
    try {
      view = new U8(this.#memory as ArrayBuffer, offset, size)
    } catch (error) {
      // Caught rather than checked before: the check (a getter call) cost
      // 5-14 % of a 64 B malloc/free pair.
      throw this.#viewFailed(offset, error)
    }
    Stamp.mark(view, this.#owner, offset, sizeClass, NOT_SHARED)
    this.#unclaimed = -1
    return view
  }

  /**
   * What to throw when no view could be made over the block at `offset`: a
   * view over the pool's memory fails once `transfer()` moved that memory
   * away, or on a stack overflow; the block goes back either way (if this
   * overflows too, the next call gives it back: see #unclaimed). Apart from
   * #view, as every byte of a hot function counts: V8 inlines a caller's
   * callees only up to a total size, and a malloc/free pair is past it.
   */
  #viewFailed(offset: number, error: unknown): unknown {
    if (this.#memoryMoved()) return this.#unviewable(offset)
    this.#giveBack(offset)
    return error
  }

  /**
   * A live view of `kind` over `bytes` bytes at `offset`, of class
   * `sizeClass` (a failed allocation's -1 throws). {@link Pool.#view} is the
   * same for a Uint8Array, apart so that malloc's call stays monomorphic.
   */
  #viewOf(kind: ViewKind, offset: number, bytes: number, sizeClass: number): PoolArray {
    if (offset < 0) throw lastError()
    // Checked, not caught as in #view: a Buffer is made by Node.js code,
    // whose own errors must not read as a move.
    if (this.#memoryMoved()) throw this.#unviewable(offset)
    const view = kind.make(this.#memory as ArrayBuffer, offset, bytes)
    Stamp.mark(view, this.#owner, offset, sizeClass, NOT_SHARED)
    this.#unclaimed = -1
    return view
  }

  /** A block of `bytes` bytes for a view of `kind`, from the reuse lists or natively. */
  #allocView(kind: ViewKind, bytes: number): PoolArray {
    const handle = this.#use()
    if (!isSafeInteger(bytes)) throw errnoError(ENOMEM, `cannot allocate ${bytes} bytes`)
    const sizeClass = classOf(bytes)
    return this.#viewOf(kind, this.#claim(handle, bytes, sizeClass), bytes, sizeClass)
  }

  /**
   * Allocates a typed array of `count` elements of `Ctor` (Float64Array,
   * Int32Array, BigInt64Array, …) over pool memory, aligned to its element
   * size (every block is aligned to 8 bytes at least). The contents are not
   * zeroed. `free`, `realloc` (which keeps the class; sizes in bytes) and
   * `mallocUsableSize` take it like any view, and `ref` describes it.
   *
   * @throws {@link VmemError} `ENOMEM` when the pool is full.
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`) when `Ctor` is not a typed array class.
   *
   * @example
   * ```ts
   * const samples = pool.allocArray(Float64Array, 1024)
   * samples.fill(0.5)
   * pool.free(samples)
   * ```
   */
  allocArray<C extends PoolArrayConstructor>(Ctor: C, count: number): InstanceType<C> {
    this.#use()
    const kind = kindOf(Ctor)
    checkCount('count', count)
    return this.#allocView(kind, count * kind.bytesPerElement) as InstanceType<C>
  }

  /**
   * Allocates a Node.js `Buffer` of `size` bytes over pool memory (not
   * zeroed). `free`, `realloc` (which returns a Buffer) and
   * `mallocUsableSize` take it like any view.
   *
   * @throws {@link VmemError} `ENOMEM` when the pool is full.
   */
  allocBuffer(size: number): Buffer {
    this.#use()
    checkCount('size', size)
    return this.#allocView(BUFFER, size) as Buffer
  }

  /**
   * The generation of `view` ({@link NOT_SHARED} when not known by
   * reference) if it is a live allocation of this handle; throws otherwise.
   * Only the very view handed out counts: a subarray, a copy, a freed view or
   * another pool's view is never it (see lib/stamps.ts).
   */
  #liveGeneration(view: unknown, name: string): number {
    const generation = Stamp.generation(view, this.#owner)
    if (generation !== NOT_LIVE) return generation
    throw notLive(view, name)
  }

  /** Forgets a view of a block known by reference: its block is freed or moved. */
  #endShared(view: PoolView, offset: number): void {
    Stamp.end(view)
    if (this.#sharedViews.get(offset) === view) this.#sharedViews.delete(offset)
  }

  /**
   * Frees a block known by reference, through the core's block table:
   * `EINVAL` when another thread freed it first.
   */
  #freeShared(handle: number, view: PoolView, generation: number): void {
    const offset = Stamp.offset(view)
    const freed = binding.poolFreeRef(handle, offset, generation)
    // After the native free: a stack overflow here leaves `view` stamped
    // with a generation no longer listed, whose next use fails and ends it.
    this.#endShared(view, offset)
    if (freed < 0) throw lastError()
  }

  /** The error of a native call on a block known by reference; it forgets the view if the block is gone. */
  #sharedFailed(view: PoolView): VmemError {
    const error = lastError()
    if (error.errno === EINVAL) this.#endShared(view, Stamp.offset(view))
    return error
  }

  /**
   * A plain description of a live block — `{ offset, length, generation }`
   * — that `postMessage` copies as is: any thread with a handle of this pool
   * (see {@link Pool.share}) gets its own view of the block with
   * {@link Pool.view}, and may free it. A block is freed once, from any
   * thread: later frees of it, from any thread, throw `EINVAL`. The threads
   * must agree who writes and frees when; a view of a block freed elsewhere
   * still reads and writes the pool's memory.
   *
   * @throws {@link VmemError} `EINVAL` when `view` is not a live allocation
   * of this handle, or its block was freed through another handle.
   *
   * @example
   * ```ts
   * const block = pool.malloc(64)
   * worker.postMessage(pool.ref(block))
   * // in the worker: const view = pool.view(ref); ...; pool.free(view)
   * ```
   */
  ref(view: PoolView): BlockRef {
    const handle = this.#use()
    let generation = this.#liveGeneration(view, 'view')
    const offset = Stamp.offset(view)
    if (generation === NOT_SHARED) {
      generation = this.#share(handle, view, offset)
      if (generation < 0) throw lastError()
    } else if (binding.poolRefUsableSize(handle, offset, generation) < 0) {
      // Known by reference already: another handle may have freed it since.
      throw this.#sharedFailed(view)
    }
    return { offset, length: typedArrayByteLength(view), generation }
  }

  /**
   * This thread's view of the block a {@link Pool.ref} describes: a
   * `Uint8Array` of `ref.length` bytes that `free`, `realloc` and
   * `mallocUsableSize` accept. The same view each time for one block.
   *
   * @throws {@link VmemError} `EINVAL` when the block was freed (by any
   * thread), `ref` names no live block of this pool, or its length exceeds
   * the block.
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`) when `ref` is not an object.
   */
  view(ref: BlockRef): Uint8Array {
    const handle = this.#use()
    const { offset, length, generation } = readBlockRef(ref)
    // Asked natively each time: another thread may have freed the block.
    const usable = binding.poolRefUsableSize(handle, offset, generation)
    if (usable < 0) throw lastError()
    if (length > usable) {
      throw errnoError(EINVAL, `ref length ${length} exceeds the block's ${usable} usable bytes`)
    }
    const known = this.#sharedViews.get(offset)
    if (
      known !== undefined &&
      Stamp.generation(known, this.#owner) === generation &&
      typedArrayTag(known) === 'Uint8Array' &&
      typedArrayByteLength(known) === length
    ) {
      return known as Uint8Array
    }
    if (this.#memoryMoved()) throw memoryMoved()
    const view = new U8(this.#memory as ArrayBuffer, offset, length)
    Stamp.mark(view, this.#owner, offset, classOf(length), generation)
    this.#sharedViews.set(offset, view)
    return view
  }

  /**
   * Lists the block of `view` natively, for sharing, and stamps the view
   * with its generation (or -1 with the error reported). A view listed but
   * not stamped would go to the plain free, past the list, so until both are
   * done {@link Pool.#unclaimed} names this step.
   */
  #share(handle: number, view: PoolView, offset: number): number {
    this.#unshared = view
    this.#unclaimed = UNFINISHED_REF
    const generation = binding.poolRef(handle, offset)
    if (generation >= 0) {
      Stamp.share(view, generation)
      this.#sharedViews.set(offset, view)
    }
    this.#unshared = null
    this.#unclaimed = -1
    return generation
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
    const sizeClass = classOf(size)
    // #claim's steps, written out, and no closure here: on the hottest
    // path, every call and every byte counts (see #viewFailed).
    const kept = this.#reuse.take(sizeClass)
    if (kept < 0) return this.#view(this.#claimNative(handle, size), size, sizeClass)
    this.#unclaimed = kept
    return this.#view(kept, size, sizeClass)
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
      throw errnoError(ENOMEM, `calloc size ${nmemb} * ${size} overflows`)
    }
    return this.#view(
      this.#allocate(handle, total, () => hot.poolCalloc(handle, nmemb, size)),
      total,
      classOf(total),
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
      this.#allocate(handle, size, () => hot.poolAlignedAlloc(handle, alignment, size)),
      size,
      classOf(size),
    )
  }

  /**
   * Resizes an allocation, keeping its contents up to the smaller size
   * (libvmem's `vmem_realloc`). `null` allocates; a size of 0 frees `view` and
   * returns `null`. On success `view` is no longer live (it may still read
   * stale data); on failure it is untouched — but for a RangeError of a
   * stack that ran out, which may have ended `view` and freed its block.
   *
   * @throws {@link VmemError} `ENOMEM`; `EINVAL` when `view` is not a live
   * allocation of this pool.
   */
  realloc(view: null, size: number): Uint8Array
  realloc<V extends PoolView>(view: V, size: number): V | null
  realloc<V extends PoolView>(view: V | null, size: number): V | null
  realloc<V extends PoolView>(view: V | null, size: number): V | null {
    const handle = this.#use()
    checkCount('size', size)
    if (view === null) return this.malloc(size) as V
    const generation = this.#liveGeneration(view, 'view')
    const offset = Stamp.offset(view)
    // The same class of view back (a Float64Array stays one, a Buffer a Buffer).
    const kind = kindOfView(view)
    if (size % kind.bytesPerElement !== 0) {
      throw outOfRange('size', `a multiple of ${kind.bytesPerElement}, the view's element size`, size)
    }
    if (size === 0) {
      this.free(view)
      return null
    }
    // Before the block moves: a failed realloc leaves `view` live.
    if (this.#memoryMoved()) throw memoryMoved()
    if (generation >= 0) {
      const moved = this.#allocate(handle, size, () =>
        binding.poolReallocRef(handle, offset, generation, size),
      )
      if (moved < 0) throw this.#sharedFailed(view)
      // A stack overflow here leaves `view` stamped with a generation no
      // longer listed: its next use fails with EINVAL and ends it.
      this.#endShared(view, offset)
      return this.#viewOf(kind, moved, size, classOf(size)) as V
    }
    // Ended before its block moves, never after: a stack overflow between
    // the two would leave a live view of a freed block. Until the view of
    // the new block is out, #unclaimed holds the block (and a stack
    // overflow frees it: the contents are lost, never the space).
    Stamp.end(view)
    this.#unclaimed = offset
    const moved = this.#allocate(handle, size, () => hot.poolRealloc(handle, offset, size))
    if (moved < 0) {
      this.#unclaimed = offset
      Stamp.revive(view, this.#owner)
      this.#unclaimed = -1
      throw lastError()
    }
    return this.#viewOf(kind, moved, size, classOf(size)) as V
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
    const generation = this.#liveGeneration(view, 'view')
    if (generation !== NOT_SHARED) return this.#freeShared(handle, view, generation)
    const offset = Stamp.offset(view)
    Stamp.end(view)
    this.#unclaimed = offset
    // Kept for the next malloc of its class when there is room; an object
    // from alignedAlloc may be larger than its class, never smaller.
    if (!this.#reuse.keep(Stamp.sizeClass(view), offset)) hot.poolFree(handle, offset)
    this.#unclaimed = -1
  }

  /**
   * The usable size of an allocation: at least what was asked for (libvmem's
   * `vmem_malloc_usable_size`).
   */
  mallocUsableSize(view: PoolView): number {
    const handle = this.#use()
    const generation = this.#liveGeneration(view, 'view')
    const offset = Stamp.offset(view)
    if (generation === NOT_SHARED) return hot.poolUsableSize(handle, offset)
    const usable = binding.poolRefUsableSize(handle, offset, generation)
    if (usable < 0) throw this.#sharedFailed(view)
    return usable
  }

  /**
   * Copies a string into the pool as UTF-8 followed by a NUL byte (libvmem's
   * `vmem_strdup`); the view's length includes the NUL.
   */
  strdup(s: string): Uint8Array {
    const handle = this.#use()
    checkString('s', s)
    const length = utf8ByteLength(s, 'utf8')
    const bytes = length + 1
    const sizeClass = classOf(bytes)
    const offset = this.#claim(handle, bytes, sizeClass)
    const view = this.#view(offset, bytes, sizeClass)
    // Held until written (see #unclaimed): `view` is nobody's before then.
    this.#unclaimed = offset
    encodeInto(utf8, s, view)
    view[length] = 0
    this.#unclaimed = -1
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
    const bytes = count * 4
    const offset = this.#allocate(handle, bytes, () => hot.poolAlignedAlloc(handle, 4, bytes))
    const view = this.#viewOf(UINT32, offset, bytes, classOf(bytes)) as Uint32Array
    // Held until written, as in strdup.
    this.#unclaimed = offset
    for (let i = 0, n = 0; i < s.length; n++) {
      const codePoint = codePointAt(s, i) as number
      view[n] = codePoint
      i += codePoint > 0xffff ? 2 : 1
    }
    view[count - 1] = 0
    this.#unclaimed = -1
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

  /**
   * Gives back every block this thread keeps for this pool — the lists
   * JavaScript keeps for reuse, the core's front cache and jemalloc's
   * thread cache — so that {@link Pool.stats} and other threads see them
   * free. Nothing else flushes: call it before reading statistics that
   * must count only live blocks.
   */
  flush(): void {
    const handle = this.#use()
    this.#releaseReused(handle)
    binding.poolFlush(handle)
  }

  /**
   * A snapshot of the pool's statistics. It gives nothing back: blocks this
   * thread keeps for reuse count as allocated until {@link Pool.flush}.
   */
  stats(): PoolStats {
    const handle = this.#use()
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
    const text = this.statsText(opts)
    const printFunction = currentPrint()
    if (printFunction !== null) printFunction(text)
    else binding.printDefault(text)
  }

  /**
   * The text {@link Pool.statsPrint} prints, as a string (`opts` as there).
   *
   * @example
   * ```ts
   * pool.statsText('gbl').startsWith('___ Begin vmem statistics ___') // true
   * ```
   */
  statsText(opts: string = ''): string {
    const handle = this.#use()
    checkString('opts', opts)
    return binding.poolStatsText(handle, opts)
  }

  /**
   * Returns the pages of freed memory to the file system now, rather than
   * after jemalloc's decay time (10 s): on tmpfs or a disk, the file's
   * space for them is freed. Blocks this thread keeps for reuse are not
   * freed memory: {@link Pool.flush} first to include them.
   */
  purge(): void {
    binding.poolPurge(this.#use())
  }

  /**
   * Releases this handle of the pool (libvmem's `vmem_delete`): every view
   * this handle made then reads as length 0 and every method throws. When it
   * was the pool's last handle (see {@link Pool.share}), the pool goes and
   * its file space goes back to the file system; otherwise the pool lives on
   * for the other handles. Calling it again does nothing.
   */
  delete(): void {
    this.#end((handle, memory) => binding.poolDelete(handle, memory))
  }

  /**
   * {@link Pool.delete} with the pool's release (unmapping and closing its
   * file) on libuv's thread pool. The handle ends at once — views read as
   * length 0 and methods throw before the promise settles.
   */
  async deleteAsync(): Promise<void> {
    await this.#end((handle, memory) => binding.poolDeleteAsync(handle, memory))
  }

  /**
   * Ends this handle: what it keeps for reuse and caches goes back to the
   * pool (which other handles may go on using), then `release` gives the
   * native handle up. Its result, or undefined when the handle had ended.
   *
   * After `release`, field writes and no call until the handle reads as
   * ended: a stack overflow anywhere before leaves the handle whole, to
   * delete again; one after the native release, with the handle still set,
   * would leave a Pool over a slot that the next pool made may take.
   */
  #end<R>(release: (handle: number, memory: ArrayBuffer | null) => R): R | undefined {
    if (orphans.length !== 0) releaseOrphans()
    const handle = this.#handle
    if (handle < 0) return undefined
    if (this.#unclaimed !== -1) this.#finishCutShort(handle)
    this.#releaseReused(handle)
    binding.poolFlush(handle)
    const released = release(handle, this.#memory)
    this.#handle = -1
    this.#memory = null
    this.#registration.handle = -1
    // Calls only after the end: one cut short leaves a dead handle's cache.
    this.#sharedViews.clear()
    unregisterCollected(collected, this)
    return released
  }

  /** Same as {@link Pool.delete}, for `using pool = Pool.create(...)`. */
  [Symbol.dispose](): void {
    this.delete()
  }
}
