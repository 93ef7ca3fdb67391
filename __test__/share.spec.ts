import test from 'ava'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import { MIN_POOL, Pool, VmemError, type PoolToken } from '../index.js'
import { POOL_64M } from './helpers.js'
import { runIsolated } from './isolated.js'

const SHM = '/dev/shm'

/** Runs the share worker on a job; its report once its thread has ended (with its handles). */
function runWorker<T>(workerData: object): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'fixtures', 'share-worker.cjs'), { workerData })
    let report: T | undefined
    worker.once('message', (message: T) => (report = message))
    worker.once('error', reject)
    worker.once('exit', () => (report === undefined ? reject(new Error('no report')) : resolve(report)))
  })
}

const einval = { instanceOf: VmemError, code: 'EINVAL' }

test('share gives a plain cloneable token; attach gives a second handle of the same pool', (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  const token = pool.share()
  t.deepEqual(Object.keys(token).sort(), ['pid', 'poolId'])
  t.deepEqual(structuredClone(token), token)
  t.deepEqual(pool.share(), token, 'sharing again names the same pool')
  const other = Pool.attach(structuredClone(token))
  t.is(other.size, pool.size)
  const view = other.malloc(100).fill(3)
  // The same memory: the first handle's block and the second's never overlap.
  const mine = pool.malloc(100).fill(4)
  t.true(view.every((byte) => byte === 3))
  pool.free(mine)
  // Deleting one handle leaves the pool to the other.
  pool.delete()
  t.true(pool.deleted)
  t.is(view.length, 100)
  t.true(other.check())
  other.free(view)
  other.delete()
  t.is(view.length, 0)
  t.throws(() => Pool.attach(token), { ...einval, message: /no live shared pool/ })
})

test('workers attach to one pool, allocate and free in parallel', async (t) => {
  const pool = Pool.create(SHM, POOL_64M)
  const token = pool.share()
  const results = await Promise.all(
    [0, 1, 2, 3].map((id) => runWorker<{ id: number; ok: boolean }>({ token, job: 'fill', id })),
  )
  t.deepEqual(
    results.map((result) => result.ok),
    [true, true, true, true],
  )
  t.true(pool.check())
  pool.flush()
  t.is(pool.stats().allocated, 0)
  pool.delete()
})

test('a handle ends with its worker: the pool goes with the last handle', async (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  const token = pool.share()
  await runWorker({ token, job: 'keep', id: 0 })
  // The worker's handle (and its block) went with the worker's thread; the
  // block is still allocated, the pool still ours.
  t.true(pool.check())
  pool.delete()
  t.throws(() => Pool.attach(token), einval)
})

test('handles that end with their workers strand no freed blocks: the pool fills again', async (t) => {
  const pool = Pool.create(SHM, POOL_64M)
  const token = pool.share()
  // Each worker frees ~13 MiB of blocks and ends without flush() or
  // delete(); kept for reuse by its handle, up to 2 MiB each would be lost.
  for (let id = 0; id < 40; id++) await runWorker({ token, job: 'churn', id })
  const views: Uint8Array[] = []
  for (;;) {
    try {
      views.push(pool.malloc(1 << 20))
    } catch {
      break
    }
  }
  t.true(views.length >= 62, `${views.length} MiB of 64 filled`)
  for (const view of views) pool.free(view)
  t.is(pool.stats().allocated, 0)
  pool.delete()
})

test('odd tokens throw clear errors', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  const token = pool.share()
  for (const odd of [null, undefined, 7, 'token', Symbol('x')]) {
    t.throws(() => Pool.attach(odd as unknown as PoolToken), {
      instanceOf: TypeError,
      code: 'ERR_INVALID_ARG_TYPE',
    })
  }
  const forged: unknown[] = [
    {},
    { poolId: token.poolId },
    { poolId: String(token.poolId), pid: process.pid },
    { poolId: -1, pid: process.pid },
    { poolId: 1.5, pid: process.pid },
    { poolId: token.poolId, pid: process.pid + 1 },
    Object.create(token),
    Object.defineProperty({ pid: process.pid }, 'poolId', { get: () => token.poolId, enumerable: true }),
    new Proxy(token, {
      getOwnPropertyDescriptor: () => {
        throw new Error('trap')
      },
    }),
  ]
  for (const odd of forged)
    t.throws(() => Pool.attach(odd as PoolToken), { ...einval, message: /not a pool token/ })
  // Ids of pools that never were, or are gone.
  for (const poolId of [0, 2 ** 53 - 1, token.poolId + 1000]) {
    t.throws(() => Pool.attach({ poolId, pid: process.pid }), einval)
  }
})

test('a region pool cannot be shared', (t) => {
  const region = new ArrayBuffer(MIN_POOL + 65536)
  using pool = Pool.createInRegion(region)
  t.throws(() => pool.share(), { ...einval, message: /region/ })
})

test('a deleted handle cannot share', (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  pool.delete()
  t.throws(() => pool.share(), einval)
})

test('the pool goes when its last handle is garbage-collected', (t) => {
  const run = runIsolated<{ attachedWhileHeld: boolean; codeAfter: string; checkAfter: boolean }>(`
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        globalThis.gc()
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    let first = Pool.create('/dev/shm', MIN_POOL)
    const token = first.share()
    let second = Pool.attach(token)
    let view = second.malloc(64).fill(1)
    // One handle collected: the other keeps the pool.
    first = null
    await settle()
    const attachedWhileHeld = Pool.attach(token) !== null
    const checkAfter = second.check() && view.every((byte) => byte === 1)
    // Every handle and view collected: the pool goes.
    second = null
    view = null
    await settle()
    let codeAfter = 'none'
    try { Pool.attach(token) } catch (err) { codeAfter = err.code }
    report({ attachedWhileHeld, codeAfter, checkAfter })
  `)
  t.is(run.signal, null, run.ending)
  t.deepEqual(run.result, { attachedWhileHeld: true, codeAfter: 'EINVAL', checkAfter: true }, run.ending)
})
