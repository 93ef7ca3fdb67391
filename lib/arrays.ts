/**
 * The kinds of view a pool hands out: every typed array class (captured
 * when this module loads, so a replaced global changes nothing) and Node.js
 * Buffers, with how to build each over the pool's memory.
 */

import { invalidArgType } from './errors.js'
import { typedArrayTag, U8, WeakSetAdd, WeakSetHas } from './intrinsics.js'

/** A typed array a pool can hand out. */
export type PoolArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array

/** The class of a {@link PoolArray}, as passed to `allocArray`. */
export type PoolArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor

type Make = (memory: ArrayBuffer, offset: number, bytes: number) => PoolArray

/** One kind of view: its element size and how to build one. */
export interface ViewKind {
  readonly bytesPerElement: number
  readonly make: Make
}

const constructors: PoolArrayConstructor[] = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
]

/** Kinds by constructor, and by the class name a typed array's internal slot gives. */
const byConstructor = new Map<unknown, ViewKind>()
const byTag = new Map<string, ViewKind>()
for (const Ctor of constructors) {
  const bytesPerElement = Ctor.BYTES_PER_ELEMENT
  const kind: ViewKind = {
    bytesPerElement,
    make: (memory, offset, bytes) => new Ctor(memory, offset, bytes / bytesPerElement),
  }
  byConstructor.set(Ctor, kind)
  byTag.set(Ctor.name, kind)
}
const mapGet = Map.prototype.get

/** Buffers the pool made ({@link BUFFER}): a Buffer's internal class is Uint8Array. */
const buffers = new WeakSet<object>()
const construct = Reflect.construct
/**
 * What a Buffer is made as: a Uint8Array whose prototype is Buffer's, as
 * Node.js's own Buffers are. `Buffer.from` would read the memory's
 * `byteLength` through `ArrayBuffer.prototype`, where user code can sit: it
 * runs while the block is not yet the view's, and a call into the pool from
 * there would give the block back under the Buffer.
 */
function BufferTarget(): void {}
BufferTarget.prototype = Buffer.prototype

/** Node.js Buffers over the pool's memory. */
export const BUFFER: ViewKind = {
  bytesPerElement: 1,
  make: (memory, offset, bytes) => {
    const buffer = construct(U8, [memory, offset, bytes], BufferTarget) as Buffer
    WeakSetAdd(buffers, buffer)
    return buffer
  },
}

/** The kind of `Ctor`, one of the typed array classes; a TypeError for anything else. */
export function kindOf(Ctor: unknown): ViewKind {
  const kind = Reflect.apply(mapGet, byConstructor, [Ctor]) as ViewKind | undefined
  if (kind === undefined) {
    throw invalidArgType('Ctor', 'a typed array class such as Float64Array or Int32Array', Ctor)
  }
  return kind
}

/** The kind of a view the pool made (read from its internal slots, and the pool's own Buffer list). */
export function kindOfView(view: object): ViewKind {
  if (WeakSetHas(buffers, view)) return BUFFER
  return Reflect.apply(mapGet, byTag, [typedArrayTag(view)]) as ViewKind
}
