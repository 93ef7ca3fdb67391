/**
 * Plain values threads hand each other: {@link PoolToken} (a pool) and,
 * read the same way, block references. They arrive from anywhere — another
 * worker, a structured clone, user code — so they are read from their own
 * data properties only (a getter, a Proxy's `get` or an inherited property
 * never counts) and checked before anything native sees them.
 */

import { EINVAL, errnoError, invalidArgType, type VmemError } from './errors.js'
import { isSafeInteger } from './intrinsics.js'

const getOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor

/**
 * What {@link Pool.share} returns: a plain object that `postMessage` and
 * `structuredClone` copy as is. Any thread of the same process passes it to
 * {@link Pool.attach} to get its own handle of the pool.
 */
export interface PoolToken {
  /** The pool's id: process-unique, never reused. */
  readonly poolId: number
  /** The process the pool lives in: a token means nothing in another. */
  readonly pid: number
}

/**
 * The value of `object`'s own data property `key` when it is a safe
 * integer >= 0, else undefined.
 */
export function ownCount(object: object, key: string): number | undefined {
  let descriptor: PropertyDescriptor | undefined
  try {
    descriptor = getOwnPropertyDescriptor(object, key)
  } catch {
    // A revoked Proxy, or a trap that throws.
    return undefined
  }
  if (descriptor === undefined || !('value' in descriptor)) return undefined
  const value: unknown = descriptor.value
  return typeof value === 'number' && isSafeInteger(value) && value >= 0 ? value : undefined
}

function notAToken(why: string): VmemError {
  return errnoError(EINVAL, `not a pool token of this process (${why}): pass what pool.share() returned`)
}

/** The pool id a token names, after checking its shape and process. */
export function tokenPoolId(token: unknown): number {
  if (typeof token !== 'object' || token === null) throw invalidArgType('token', 'of type object', token)
  const poolId = ownCount(token, 'poolId')
  const pid = ownCount(token, 'pid')
  if (poolId === undefined || pid === undefined) throw notAToken('no numeric poolId and pid data properties')
  if (pid !== process.pid) throw notAToken(`made in process ${pid}`)
  return poolId
}

/**
 * What {@link Pool.ref} returns: a plain, cloneable description of a live
 * block — its place in the pool and its generation, which names this
 * incarnation of the block (a later block at the same offset has another).
 * Any thread with a handle of the pool turns it into a view with
 * {@link Pool.view}.
 */
export interface BlockRef {
  /** Bytes from the start of the pool. */
  readonly offset: number
  /** The view's length in bytes. */
  readonly length: number
  /** This incarnation of the block: process-unique, never reused. */
  readonly generation: number
}

/** A ref's fields, after checking its shape (own numeric data properties). */
export function readBlockRef(ref: unknown): BlockRef {
  if (typeof ref !== 'object' || ref === null) throw invalidArgType('ref', 'of type object', ref)
  const offset = ownCount(ref, 'offset')
  const length = ownCount(ref, 'length')
  const generation = ownCount(ref, 'generation')
  if (offset === undefined || length === undefined || generation === undefined) {
    throw errnoError(
      EINVAL,
      'not a block reference (no numeric offset, length and generation data properties): pass what pool.ref() returned',
    )
  }
  return { offset, length, generation }
}
