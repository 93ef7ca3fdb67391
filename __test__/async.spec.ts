import test from 'ava'
import { readdirSync } from 'node:fs'

import { MIN_POOL, Pool, VmemError } from '../index.js'
import { POOL_64M, tempDir } from './helpers.js'

const SHM = '/dev/shm'

test('createAsync makes a pool like create; deleteAsync ends it at once and releases it off the loop', async (t) => {
  const pool = await Pool.createAsync(SHM, POOL_64M)
  t.is(pool.size, POOL_64M)
  const view = pool.malloc(100).fill(1)
  t.true(pool.check())
  const deleting = pool.deleteAsync()
  // The handle ended before the promise settles.
  t.true(pool.deleted)
  t.is(view.length, 0)
  t.throws(() => pool.malloc(1), { instanceOf: VmemError, code: 'EINVAL' })
  await deleting
  await pool.deleteAsync()
  pool.delete()
})

test('createAsync rejects with the errors create throws', async (t) => {
  for (const [dir, size, code] of [
    [SHM, 1000, 'EINVAL'],
    ['/no/such/dir', MIN_POOL, 'ENOENT'],
    ['/etc/hostname', MIN_POOL, 'ENOTDIR'],
    ['/dev/shm\0x', MIN_POOL, 'EINVAL'],
  ] as const) {
    const sync = t.throws(() => Pool.create(dir, size), { instanceOf: VmemError })
    const error = await t.throwsAsync(Pool.createAsync(dir, size), { instanceOf: VmemError, code })
    t.is(error?.message, sync?.message)
    t.is(error?.errno, sync?.errno)
  }
  await t.throwsAsync(Pool.createAsync(7 as unknown as string, MIN_POOL), { code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(Pool.createAsync(SHM, -1), { code: 'ERR_OUT_OF_RANGE' })
})

test('many pools created and deleted at once, with nothing left behind', async (t) => {
  using dir = tempDir()
  const pools = await Promise.all(Array.from({ length: 8 }, () => Pool.createAsync(dir.path, MIN_POOL)))
  t.is(new Set(pools.map((pool) => pool.malloc(8).buffer)).size, 8)
  await Promise.all(pools.map((pool) => pool.deleteAsync()))
  t.deepEqual(readdirSync(dir.path), [])
})

test('deleteAsync of one handle of a shared pool leaves it to the others', async (t) => {
  const pool = await Pool.createAsync(SHM, MIN_POOL)
  const other = Pool.attach(pool.share())
  const view = other.malloc(64).fill(2)
  await pool.deleteAsync()
  t.true(view.every((byte) => byte === 2))
  t.true(other.check())
  other.free(view)
  await other.deleteAsync()
  t.is(view.length, 0)
})

test('deleteAsync of a region pool', async (t) => {
  const region = new ArrayBuffer(MIN_POOL + 65536)
  const pool = Pool.createInRegion(region)
  pool.malloc(10)
  await pool.deleteAsync()
  t.true(pool.deleted)
  // The region is free for a new pool.
  Pool.createInRegion(region).delete()
})
