import test from 'ava'

import { MIN_POOL, Pool, VmemError } from '../index.js'
import { isRoot, mountTmpfs, nodeMajor, tempDir } from './helpers.js'

const GiB = 1024 * 1024 * 1024

test('a pool larger than its file system fails at create with ENOSPC', (t) => {
  if (!isRoot()) return t.pass('not root: cannot mount a tmpfs')
  using fs = mountTmpfs('20m')
  const err = t.throws(() => Pool.create(fs.path, 32 * 1024 * 1024), { instanceOf: VmemError })
  t.is(err?.code, 'ENOSPC')
  t.regex(err?.message ?? '', /No space left on device$/)
  // What fits, fits; filled to ENOMEM and written whole, it never SIGBUSes.
  using pool = Pool.create(fs.path, 18 * 1024 * 1024)
  let count = 0
  t.throws(
    () => {
      for (;;) {
        pool.malloc(64 * 1024).fill(0xcd)
        count++
      }
    },
    { instanceOf: VmemError, code: 'ENOMEM' },
  )
  t.true(count * 64 * 1024 >= 17 * 1024 * 1024)
  t.true(pool.check())
})

test('a pool over 4 GiB works on Node.js 22+ and fails clearly on 20', (t) => {
  using dir = tempDir()
  const size = 5 * GiB
  if (nodeMajor < 22) {
    const err = t.throws(() => Pool.create(dir.path, size), { instanceOf: VmemError })
    t.regex(err?.message ?? '', /4 GiB/)
    return
  }
  using pool = Pool.create(dir.path, size)
  t.is(pool.size, size)
  const views = []
  for (let i = 0; i < 5; i++) views.push(pool.malloc(900 * 1024 * 1024))
  const last = views[4] as Uint8Array
  t.true(last.byteOffset + last.length > 4 * GiB)
  last[last.length - 1] = 42
  t.is(last[last.length - 1], 42)
  t.true(pool.check())
})

test('the smallest pool is MIN_POOL on a disk-backed dir', (t) => {
  using dir = tempDir()
  using pool = Pool.create(dir.path, MIN_POOL)
  t.is(pool.malloc(MIN_POOL - 4096).length, MIN_POOL - 4096)
})
