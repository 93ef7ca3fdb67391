import test from 'ava'

import vmem, {
  MIN_POOL,
  Pool,
  VmemError,
  checkVersion,
  errormsg,
  setFuncs,
  usableSizeFor,
} from '../index.mjs'

test('ESM import gives the whole API, named and default', (t) => {
  t.is(typeof Pool.create, 'function')
  t.is(typeof setFuncs, 'function')
  t.is(typeof errormsg, 'function')
  t.is(checkVersion(1, 1), null)
  t.is(usableSizeFor(100), 112)
  t.is(vmem.Pool, Pool)
  const pool = Pool.create('/dev/shm', MIN_POOL)
  t.is(pool.malloc(5).length, 5)
  pool.delete()
  t.throws(() => Pool.create('/dev/shm', 1), { instanceOf: VmemError })
})

test('every export of the CommonJS module is a named ESM export', async (t) => {
  const named = await import('../index.mjs')
  for (const key of Object.keys(vmem)) t.is(named[key], vmem[key], key)
})

test('the package name resolves to the ESM entry', async (t) => {
  const byName = await import('vmem')
  t.is(byName.Pool, Pool)
})
