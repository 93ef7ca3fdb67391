const test = require('ava')

const vmem = require('..')
const byName = require('vmem')

test('CommonJS require gives the whole API', (t) => {
  const { Pool, VmemError, MIN_POOL } = vmem
  t.is(byName.Pool, Pool)
  const pool = Pool.create('/dev/shm', MIN_POOL)
  const view = pool.strdup('cjs')
  t.deepEqual([...view], [99, 106, 115, 0])
  pool.delete()
  t.throws(() => Pool.create('/no/such/dir', MIN_POOL), { instanceOf: VmemError, code: 'ENOENT' })
})
