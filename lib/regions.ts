/**
 * The buffers region pools live in: brand checks, and pinning so that their
 * memory never moves away from under a pool.
 */

import { markAsUntransferable } from 'node:worker_threads'

import { EINVAL, errnoError, type VmemError } from './errors.js'
import {
  arrayBufferByteLength,
  defineProperty,
  sharedArrayBufferByteLength,
  WeakSetAdd,
  WeakSetHas,
} from './intrinsics.js'

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
export function pin(region: ArrayBuffer): void {
  markAsUntransferable(region)
  WeakSetAdd(pinnedRegions, region)
}

/** Whether `value` is a real ArrayBuffer (not a SharedArrayBuffer, not a look-alike). */
export function isArrayBuffer(value: unknown): value is ArrayBuffer {
  try {
    arrayBufferByteLength(value)
    return true
  } catch {
    return false
  }
}

/** Whether `value` is a real SharedArrayBuffer. */
export function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  if (sharedArrayBufferByteLength === undefined) return false
  try {
    sharedArrayBufferByteLength(value)
    return true
  } catch {
    return false
  }
}
