import test from 'ava'

import { MIN_POOL, Pool, VmemError, setFuncs } from '../index.js'
import { POOL_64M } from './helpers.js'

const SHM = '/dev/shm'

test('statsText gives what statsPrint prints, with the same options', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  const lines: string[] = []
  setFuncs({ print: (text) => lines.push(text) })
  try {
    pool.statsPrint('gbl')
  } finally {
    setFuncs({ print: null })
  }
  const text = pool.statsText('gbl')
  t.true(text.startsWith('___ Begin vmem statistics ___'))
  t.is(lines.join(''), text)
  t.true(pool.statsText().length > text.length)
  t.throws(() => pool.statsText(7 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('purge returns freed pages: retained grows or mapped shrinks', (t) => {
  using pool = Pool.create(SHM, POOL_64M)
  const views = Array.from({ length: 16 }, () => pool.malloc(2 << 20).fill(1))
  for (const view of views) pool.free(view)
  pool.flush()
  const before = pool.stats()
  pool.purge()
  const after = pool.stats()
  t.is(after.allocated, 0)
  t.true(after.retained > before.retained || after.mapped < before.mapped, JSON.stringify({ before, after }))
  t.true(pool.check())
})

test('purge and statsText on a deleted pool throw EINVAL', (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  pool.delete()
  t.throws(() => pool.purge(), { instanceOf: VmemError, code: 'EINVAL' })
  t.throws(() => pool.statsText(), { instanceOf: VmemError, code: 'EINVAL' })
})
