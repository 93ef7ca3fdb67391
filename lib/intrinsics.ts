/**
 * Built-ins captured when this module loads. Whatever user code redefines
 * later — a property of a view (`byteLength`, `byteOffset`, ...), a prototype
 * (`Map.prototype.get`, `Array.prototype.pop`, a view's prototype chain), a
 * global (`Math.clz32`, `Uint8Array`) — the library reads the internal slots
 * of views and buffers and runs its own bookkeeping unchanged, so no trick
 * can make it free, reuse or hand out the wrong block.
 */

/** `fn` as a plain function taking its `this` first (Node.js's uncurryThis). */
export function uncurry<This, Args extends unknown[], R>(
  fn: (this: This, ...args: Args) => R,
): (self: This, ...args: Args) => R {
  return Function.prototype.call.bind(fn) as unknown as (self: This, ...args: Args) => R
}

export function intrinsicGetter<T>(proto: object, name: string | symbol): ((self: unknown) => T) | undefined {
  const get = Object.getOwnPropertyDescriptor(proto, name)?.get
  return get === undefined ? undefined : uncurry(get as (this: unknown) => T)
}

export const TypedArrayPrototype: object = Object.getPrototypeOf(Uint8Array.prototype) as object
/** The name of a typed array's class, or undefined for anything else (never throws). */
export const typedArrayTag = intrinsicGetter<string | undefined>(TypedArrayPrototype, Symbol.toStringTag)!
/** A typed array's real byteOffset and byteLength, from its internal slots. */
export const typedArrayByteOffset = intrinsicGetter<number>(TypedArrayPrototype, 'byteOffset')!
export const typedArrayByteLength = intrinsicGetter<number>(TypedArrayPrototype, 'byteLength')!
/** Throw a TypeError unless given a real ArrayBuffer (or SharedArrayBuffer). */
export const arrayBufferByteLength = intrinsicGetter<number>(ArrayBuffer.prototype, 'byteLength')!
export const sharedArrayBufferByteLength =
  typeof SharedArrayBuffer === 'undefined'
    ? undefined
    : intrinsicGetter<number>(SharedArrayBuffer.prototype, 'byteLength')
/** Whether a buffer can change length (absent on Node.js versions without resizable buffers). */
export const arrayBufferResizable = intrinsicGetter<boolean>(ArrayBuffer.prototype, 'resizable')
export const sharedArrayBufferGrowable =
  typeof SharedArrayBuffer === 'undefined'
    ? undefined
    : intrinsicGetter<boolean>(SharedArrayBuffer.prototype, 'growable')

export const { ceil, clz32, floor, max, min } = Math
export const { isInteger, isSafeInteger } = Number
export const { defineProperty } = Object
export const U8 = Uint8Array
export const codePointAt = uncurry(
  String.prototype.codePointAt as (this: string, pos: number) => number | undefined,
)
export const utf8ByteLength = Buffer.byteLength
export const encodeInto = uncurry(
  TextEncoder.prototype.encodeInto as (
    this: InstanceType<typeof TextEncoder>,
    s: string,
    into: Uint8Array,
  ) => { read: number; written: number },
)
export const U32 = Uint32Array
export const WeakSetHas = uncurry(WeakSet.prototype.has as (this: WeakSet<object>, value: object) => boolean)
export const WeakSetAdd = uncurry(
  WeakSet.prototype.add as (this: WeakSet<object>, value: object) => WeakSet<object>,
)

/**
 * A Map whose methods are the ones Map.prototype had when this module
 * loaded, as Node.js's own SafeMap: later changes to Map.prototype do not
 * reach it.
 */
export class SafeMap<K, V> extends Map<K, V> {}
for (const key of Reflect.ownKeys(Map.prototype)) {
  if (key !== 'constructor') {
    defineProperty(SafeMap.prototype, key, Object.getOwnPropertyDescriptor(Map.prototype, key)!)
  }
}
Object.freeze(SafeMap.prototype)
