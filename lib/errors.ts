/** Errors: the library's own ({@link VmemError}) and Node-style argument errors. */

import { constants as osConstants } from 'node:os'
import { types } from 'node:util'

import { binding } from './binding.js'
import { isInteger, isSafeInteger } from './intrinsics.js'

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

export const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, errno]) => [errno, name] as const),
)

export function errnoError(errno: number, message: string): VmemError {
  return new VmemError(errnoNames.get(errno) ?? 'EUNKNOWN', errno, message)
}

/** The error of the native call that just failed on this thread. */
export function lastError(): VmemError {
  return errnoError(binding.lastErrno(), binding.errormsg())
}

export const EINVAL = osConstants.errno.EINVAL
export const ENOMEM = osConstants.errno.ENOMEM

const { isProxy } = types
const { getOwnPropertyDescriptor, getPrototypeOf } = Object

/** `object[key]` if it is an own data property of an object that is no Proxy; else undefined. */
function ownData(object: unknown, key: string): unknown {
  if ((typeof object !== 'object' && typeof object !== 'function') || object === null || isProxy(object)) {
    return undefined
  }
  return getOwnPropertyDescriptor(object, key)?.value
}

/**
 * What an argument was, for an error message. Runs no user code: a Proxy's
 * traps or a throwing `constructor` getter would otherwise turn the clear
 * TypeError into whatever they throw.
 */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (isProxy(value)) return 'a Proxy'
  if (typeof value === 'function') {
    const name = ownData(value, 'name')
    return typeof name === 'string' && name !== '' ? `function ${name}` : 'a function'
  }
  if (typeof value === 'object') {
    const name = ownData(ownData(getPrototypeOf(value), 'constructor'), 'name')
    return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object'
  }
  let shown = String(value)
  if (typeof value === 'string') shown = `'${shown.length > 25 ? `${shown.slice(0, 25)}...` : shown}'`
  return `type ${typeof value} (${shown})`
}

export function withCode<E extends Error>(error: E, code: string): E & { code: string } {
  Object.defineProperty(error, 'code', { value: code, enumerable: false, configurable: true, writable: true })
  return error as E & { code: string }
}

export function invalidArgType(name: string, expected: string, value: unknown): TypeError {
  return withCode(
    new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(value)}`),
    'ERR_INVALID_ARG_TYPE',
  )
}

export function outOfRange(name: string, range: string, value: unknown): RangeError {
  return withCode(
    new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`),
    'ERR_OUT_OF_RANGE',
  )
}

/** A byte count or count: an integer from 0 to 2^53 - 1. */
export function checkCount(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!isSafeInteger(value) || value < 0) {
    throw outOfRange(name, 'an integer >= 0 and <= 9007199254740991', value)
  }
  return value
}

export function checkUint32(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!isInteger(value) || value < 0 || value > 0xffffffff) {
    throw outOfRange(name, 'an integer >= 0 and <= 4294967295', value)
  }
  return value
}

export function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value)
  return value
}

export const poolDeleted = (): VmemError => errnoError(EINVAL, 'the pool was deleted')

/** A handle whose memory `transfer()` moved away: it can make no new view. */
export const memoryMoved = (): VmemError =>
  errnoError(
    EINVAL,
    "the pool's memory was moved away (ArrayBuffer.prototype.transfer): this handle can make no new view; " +
      'free what it holds and delete() it',
  )
