import test from 'ava'
import { readdirSync } from 'node:fs'

import {
  MAJOR_VERSION,
  MINOR_VERSION,
  MIN_POOL,
  Pool,
  VmemError,
  checkVersion,
  errormsg,
  setFuncs,
  usableSizeFor,
  type PoolStats,
} from '../index.js'
import { POOL_64M, tempDir } from './helpers.js'

const SHM = '/dev/shm'

function vmemError(t: { fail(message: string): void }, code: string, action: () => unknown): VmemError {
  try {
    action()
  } catch (err) {
    if (err instanceof VmemError && err.code === code) return err
    t.fail(`expected VmemError ${code}, got ${String(err)} (${(err as { code?: string }).code})`)
    throw err
  }
  t.fail(`expected VmemError ${code}, nothing was thrown`)
  throw new Error('unreachable')
}

test('constants match libvmem', (t) => {
  t.is(MIN_POOL, 14 * 1024 * 1024)
  t.is(MAJOR_VERSION, 1)
  t.is(MINOR_VERSION, 1)
})

test('create: a size below MIN_POOL is EINVAL with the libvmem message', (t) => {
  const err = vmemError(t, 'EINVAL', () => Pool.create(SHM, 1000))
  t.is(err.errno, 22)
  t.is(err.message, 'size 1000 smaller than 14680064')
  t.is(errormsg(), 'size 1000 smaller than 14680064')
  t.true(err instanceof Error)
  t.is(err.name, 'VmemError')
})

test('create: missing dir is ENOENT, a file is ENOTDIR', (t) => {
  using dir = tempDir()
  const missing = vmemError(t, 'ENOENT', () => Pool.create(`${dir.path}/missing`, MIN_POOL))
  t.is(missing.errno, 2)
  t.regex(missing.message, /: No such file or directory$/)
  vmemError(t, 'ENOTDIR', () => Pool.create('/etc/hostname', MIN_POOL))
})

test('create: the pool file is invisible', (t) => {
  using dir = tempDir()
  using pool = Pool.create(dir.path, MIN_POOL)
  t.deepEqual(readdirSync(dir.path), [])
  t.is(pool.size, MIN_POOL)
})

test('create: wrong argument types and ranges throw Node-style errors', (t) => {
  const typeError = { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }
  const rangeError = { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }
  t.throws(() => Pool.create(42 as unknown as string, MIN_POOL), typeError)
  t.throws(() => Pool.create(SHM, '16m' as unknown as number), typeError)
  t.throws(() => Pool.create(SHM, -1), rangeError)
  t.throws(() => Pool.create(SHM, 1.5), rangeError)
  t.throws(() => Pool.create(SHM, Number.NaN), rangeError)
  t.throws(() => Pool.create(SHM, 2 ** 53), rangeError)
  t.throws(() => Pool.create(SHM, Number.POSITIVE_INFINITY), rangeError)
})

test('malloc returns a zero-copy view of exactly the size asked for', (t) => {
  using pool = Pool.create(SHM, POOL_64M)
  for (const size of [0, 1, 63, 64, 4096, 65536, 1 << 20]) {
    const view = pool.malloc(size)
    t.true(view instanceof Uint8Array)
    t.is(view.byteLength, size)
    view.fill(0xab)
    t.true(pool.mallocUsableSize(view) >= size)
    pool.free(view)
  }
  // Two views of the same pool share one ArrayBuffer: no copies.
  const a = pool.malloc(8)
  const b = pool.malloc(8)
  t.is(a.buffer, b.buffer)
  t.not(a.byteOffset, b.byteOffset)
})

test('malloc: a full pool is ENOMEM and the pool still works', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  const views: Uint8Array[] = []
  let err: VmemError | undefined
  try {
    for (;;) views.push(pool.malloc(1 << 20))
  } catch (e) {
    err = e as VmemError
  }
  t.true(err instanceof VmemError)
  t.is(err?.code, 'ENOMEM')
  t.is(err?.errno, 12)
  t.true(views.length >= 13)
  vmemError(t, 'ENOMEM', () => pool.malloc(2 ** 40))
  pool.free(views.pop() ?? null)
  t.is(pool.malloc(1 << 20).length, 1 << 20)
  t.true(pool.check())
})

test('calloc zeroes; overflow is ENOMEM', (t) => {
  using pool = Pool.create(SHM, POOL_64M)
  const dirty = pool.malloc(4000)
  dirty.fill(0xff)
  pool.free(dirty)
  const zeroed = pool.calloc(100, 40)
  t.is(zeroed.length, 4000)
  t.true(zeroed.every((byte) => byte === 0))
  vmemError(t, 'ENOMEM', () => pool.calloc(2 ** 40, 2 ** 40))
  vmemError(t, 'ENOMEM', () => pool.calloc(2 ** 30, 2 ** 30))
  t.throws(() => pool.calloc(-1, 1), { code: 'ERR_OUT_OF_RANGE' })
})

test('realloc keeps contents, handles null and 0, and leaves the view on failure', (t) => {
  using pool = Pool.create(SHM, POOL_64M)
  let view = pool.realloc(null, 16)
  t.is(view?.length, 16)
  view?.set([...Array(16).keys()])
  for (const size of [100, 5000, 70_000, 3 << 20, 40, 10]) {
    const moved = pool.realloc(view, size)
    if (moved === null) throw new Error('realloc returned null')
    t.is(moved.length, size)
    t.deepEqual([...moved.subarray(0, Math.min(size, 10))], [...Array(Math.min(size, 10)).keys()])
    view = moved
  }
  const kept = view
  if (kept === null) throw new Error('realloc returned null')
  vmemError(t, 'ENOMEM', () => pool.realloc(kept, 2 * POOL_64M))
  t.deepEqual([...kept], [...Array(10).keys()])
  t.is(pool.realloc(kept, 0), null)
  vmemError(t, 'EINVAL', () => pool.free(kept))
})

test('alignedAlloc aligns; a non-power-of-two is EINVAL', (t) => {
  using pool = Pool.create(SHM, POOL_64M)
  for (let shift = 0; shift <= 21; shift++) {
    const view = pool.alignedAlloc(2 ** shift, 100)
    // The pool starts on a page boundary: offsets align up to the page size.
    t.is(view.byteOffset % Math.min(2 ** shift, 4096), 0)
    t.is(view.length, 100)
    pool.free(view)
  }
  for (const bad of [0, 3, 24, 1000]) vmemError(t, 'EINVAL', () => pool.alignedAlloc(bad, 64))
  t.is(errormsg(), 'alignment 1000 is not a power of two')
})

test('strdup gives UTF-8 plus NUL; wcsdup UTF-32 plus 0', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  const s = pool.strdup('héllo ✓')
  t.deepEqual([...s], [...Buffer.from('héllo ✓', 'utf8'), 0])
  const w = pool.wcsdup('a✓𝄞')
  t.true(w instanceof Uint32Array)
  t.deepEqual([...w], [0x61, 0x2713, 0x1d11e, 0])
  t.true(pool.mallocUsableSize(w) >= 16)
  pool.free(s)
  pool.free(w)
  t.deepEqual([...pool.strdup('')], [0])
  t.throws(() => pool.strdup(7 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('misuse throws and corrupts nothing', (t) => {
  using pool = Pool.create(SHM, POOL_64M)
  using other = Pool.create(SHM, MIN_POOL)
  const keep = pool.malloc(256)
  keep.fill(0x5a)
  const view = pool.malloc(64)
  pool.free(view)
  vmemError(t, 'EINVAL', () => pool.free(view)) // double free
  const live = pool.malloc(64)
  vmemError(t, 'EINVAL', () => pool.free(live.subarray(0, 32)))
  vmemError(t, 'EINVAL', () => pool.free(live.subarray(8)))
  vmemError(t, 'EINVAL', () => pool.free(new Uint8Array(64)))
  vmemError(t, 'EINVAL', () => pool.free(new Uint8Array(live.buffer, live.byteOffset, 64)))
  vmemError(t, 'EINVAL', () => other.free(live))
  vmemError(t, 'EINVAL', () => pool.free(other.malloc(8)))
  vmemError(t, 'EINVAL', () => pool.realloc(live.subarray(1), 10))
  vmemError(t, 'EINVAL', () => pool.mallocUsableSize(view))
  const notAView = { buffer: live.buffer, byteOffset: live.byteOffset } as unknown as Uint8Array
  t.throws(() => pool.free(notAView), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => pool.free('x' as unknown as Uint8Array), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => pool.mallocUsableSize(undefined as unknown as Uint8Array), { code: 'ERR_INVALID_ARG_TYPE' })
  pool.free(null)
  pool.free(live)
  t.true(keep.every((byte) => byte === 0x5a))
  t.true(pool.check())
})

test('delete detaches every view, is idempotent, and every method throws after', (t) => {
  const pool = Pool.create(SHM, POOL_64M)
  const views = [pool.malloc(10), pool.calloc(2, 2), pool.strdup('x')]
  const wide = pool.wcsdup('wide')
  pool.delete()
  t.true(pool.deleted)
  t.is(pool.size, 0)
  for (const view of views) t.is(view.length, 0)
  t.is(wide.length, 0)
  t.is(views[0]?.[0], undefined)
  pool.delete()
  pool[Symbol.dispose]()
  const calls: Array<() => unknown> = [
    () => pool.malloc(1),
    () => pool.calloc(1, 1),
    () => pool.realloc(null, 1),
    () => pool.free(null),
    () => pool.free(views[0] ?? null),
    () => pool.alignedAlloc(8, 8),
    () => pool.strdup('a'),
    () => pool.wcsdup('a'),
    () => pool.mallocUsableSize(wide),
    () => pool.check(),
    () => pool.stats(),
    () => pool.flush(),
    () => pool.statsPrint(),
  ]
  for (const call of calls) {
    const err = vmemError(t, 'EINVAL', call)
    t.is(err.message, 'the pool was deleted')
  }
})

test('using deletes the pool at the end of the block', (t) => {
  let escaped: Uint8Array
  {
    using pool = Pool.create(SHM, MIN_POOL)
    escaped = pool.malloc(32)
    t.is(escaped.length, 32)
  }
  t.is(escaped.length, 0)
})

test('check is true for a healthy pool', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  t.true(pool.check())
})

test('stats follow allocations', (t) => {
  using pool = Pool.create(SHM, POOL_64M)
  const before: PoolStats = pool.stats()
  t.is(before.size, POOL_64M)
  const views = Array.from({ length: 8 }, () => pool.malloc(1 << 20))
  const during = pool.stats()
  t.true(during.allocated >= before.allocated + 8 * (1 << 20))
  t.true(during.active >= 8 * (1 << 20))
  t.true(during.mapped >= during.active)
  t.true(during.nmalloc >= before.nmalloc + 8)
  for (const key of [
    'size',
    'used',
    'allocated',
    'active',
    'mapped',
    'retained',
    'metadata',
    'nmalloc',
    'ndalloc',
  ]) {
    t.is(typeof during[key as keyof PoolStats], 'number')
  }
  for (const view of views) pool.free(view)
  // Some of the freed blocks are kept for reuse, allocated, until flush().
  t.true(pool.stats().allocated > during.allocated - 8 * (1 << 20))
  pool.flush()
  t.true(pool.stats().allocated <= during.allocated - 8 * (1 << 20))
})

test.serial('statsPrint goes through setFuncs print and honours opts', (t) => {
  using pool = Pool.create(SHM, POOL_64M)
  pool.malloc(100)
  pool.malloc(1 << 20)
  const printed: string[] = []
  setFuncs({ print: (text) => printed.push(text) })
  try {
    pool.statsPrint()
    pool.statsPrint('gmabl')
    pool.statsPrint('b')
  } finally {
    setFuncs({ print: null })
  }
  t.is(printed.length, 3)
  const [full, terse, noBins] = printed as [string, string, string]
  for (const part of [
    'Begin vmem statistics',
    'Version: vmem',
    'Pool totals',
    'bins:',
    'large:',
    'End vmem statistics',
  ]) {
    t.true(full.includes(part), part)
  }
  t.false(terse.includes('Version') || terse.includes('Pool totals') || terse.includes('bins:'))
  t.true(noBins.includes('large:') && !noBins.includes('bins:'))
  t.throws(() => pool.statsPrint(5 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => setFuncs({ print: 'x' as unknown as () => void }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => setFuncs(null as unknown as object), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('checkVersion gives exact reasons', (t) => {
  t.is(checkVersion(MAJOR_VERSION, MINOR_VERSION), null)
  t.is(checkVersion(1, 0), null)
  t.is(checkVersion(2, 0), 'libvmem major version mismatch (need 2, found 1)')
  t.is(checkVersion(0, 9), 'libvmem major version mismatch (need 0, found 1)')
  t.is(checkVersion(1, 2), 'libvmem minor version mismatch (need 2, found 1)')
  t.throws(() => checkVersion(-1, 0), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => checkVersion('1' as unknown as number, 0), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('many pools live at once never share memory', (t) => {
  const pools = Array.from({ length: 16 }, () => Pool.create(SHM, MIN_POOL))
  const views = pools.map((pool, i) => pool.malloc(64).fill(i))
  views.forEach((view, i) => t.true(view.every((byte) => byte === i)))
  for (const pool of pools) {
    t.true(pool.check())
    pool.delete()
  }
})

test('freed allocations are reused by size class, exactly as jemalloc classes them', (t) => {
  const pool = Pool.create(SHM, POOL_64M)
  // A freed view's offset comes back for any size of its jemalloc class and
  // for no size of another: the JavaScript size classes match the native ones.
  let checked = 0
  for (let size = 1; size <= 70_000; size += size < 4096 ? 1 : 61) {
    // flush() returns whatever is kept to the pool: only this size's
    // offset will be kept below.
    pool.flush()
    const view = pool.malloc(size)
    const usable = pool.mallocUsableSize(view)
    t.is(usableSizeFor(size), usable)
    const offset = view.byteOffset
    pool.free(view)
    const sameClass = pool.malloc(usable)
    t.is(sameClass.byteOffset, offset, `size ${size}: usable ${usable} is its class`)
    t.is(pool.mallocUsableSize(sameClass), usable)
    pool.free(sameClass)
    const nextClass = pool.malloc(usable + 1)
    t.not(nextClass.byteOffset, offset, `size ${usable + 1} is another class than ${size}`)
    t.true(pool.mallocUsableSize(nextClass) > usable)
    pool.free(nextClass)
    checked++
  }
  // The largest class the core caches (larger blocks go straight back).
  for (const size of [(1 << 20) - 4095, 1 << 20]) {
    pool.flush()
    const view = pool.malloc(size)
    const usable = pool.mallocUsableSize(view)
    pool.free(view)
    t.is(pool.malloc(usable).byteOffset, view.byteOffset, `large size ${size}`)
  }
  t.true(checked > 5000)
  t.is(usableSizeFor(0), 8)
  t.is(usableSizeFor(2 ** 52), 2 ** 52, 'whole pages')
  t.throws(() => usableSizeFor(-1), { instanceOf: RangeError })
  t.throws(() => usableSizeFor('8' as unknown as number), { instanceOf: TypeError })
  pool.delete()
})

test('a freed batch of thousands of blocks of one class is kept for reuse whole', (t) => {
  using pool = Pool.create(SHM, POOL_64M)
  const views = Array.from({ length: 3000 }, () => pool.malloc(64))
  const sorted = (all: Uint8Array[]) => all.map((view) => view.byteOffset).sort((a, b) => a - b)
  const offsets = sorted(views)
  for (const view of views) pool.free(view)
  // Kept for reuse, each stays allocated natively until flush(): all 3000
  // (at most 128 per class were, and the rest went native one by one).
  t.is(pool.stats().allocated, 3000 * 64)
  const again = Array.from({ length: 3000 }, () => pool.malloc(64))
  t.deepEqual(sorted(again), offsets)
  t.is(pool.stats().allocated, 3000 * 64)
  for (const view of again) pool.free(view)
  pool.flush()
  t.is(pool.stats().allocated, 0)
})

test('reused allocations stay invisible: stats, double frees, and a full pool', (t) => {
  const pool = Pool.create(SHM, POOL_64M)
  const views = Array.from({ length: 100 }, () => pool.malloc(64))
  for (const view of views) pool.free(view)
  t.true(pool.stats().allocated > 0, 'stats gives nothing back')
  pool.flush()
  t.is(pool.stats().allocated, 0, 'flush gives back what is kept for reuse')
  const again = pool.malloc(64)
  pool.free(again)
  vmemError(t, 'EINVAL', () => pool.free(again))
  const reborn = pool.malloc(64)
  t.is(reborn.byteOffset, again.byteOffset)
  vmemError(t, 'EINVAL', () => pool.free(again))
  pool.free(reborn)
  // Fill with 1 MiB pieces while 64 B and 1 MiB ones are kept for reuse:
  // the pool still fills to the same count.
  const fill = (size: number): Uint8Array[] => {
    const got: Uint8Array[] = []
    for (;;) {
      try {
        got.push(pool.malloc(size))
      } catch (err) {
        t.is((err as VmemError).code, 'ENOMEM')
        return got
      }
    }
  }
  const first = fill(1 << 20)
  for (const view of first.slice(1)) pool.free(view)
  const smalls = Array.from({ length: 64 }, () => pool.malloc(64))
  for (const view of smalls) pool.free(view)
  const second = fill(1 << 20)
  t.is(second.length, first.length - 1)
  pool.delete()
})

test('after churn, a 1 MiB refill gets what a fresh pool holds: blocks kept for reuse strand nothing', (t) => {
  const fillMiB = (pool: Pool): Uint8Array[] => {
    const blocks: Uint8Array[] = []
    t.throws(
      () => {
        for (;;) blocks.push(pool.malloc(1 << 20))
      },
      { instanceOf: VmemError, code: 'ENOMEM' },
    )
    return blocks
  }
  let fresh: number
  {
    using pool = Pool.create(SHM, POOL_64M)
    fresh = fillMiB(pool).length
  }
  using pool = Pool.create(SHM, POOL_64M)
  // Random small and mid-sized blocks, a third freed as it goes, the rest
  // at the end: JavaScript then keeps blocks for reuse all over the pool.
  let seed = 12345
  const next = (): number => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return seed >>> 0
  }
  const live: Uint8Array[] = []
  for (let i = 0; i < 100_000; i++) {
    if (live.length > 0 && next() % 3 === 0) {
      pool.free(live.splice(next() % live.length, 1)[0]!)
      continue
    }
    try {
      live.push(pool.malloc(8 + (next() % (next() % 8 === 0 ? 300_000 : 600))))
    } catch (err) {
      if ((err as VmemError).code !== 'ENOMEM') throw err
    }
  }
  for (const view of live) pool.free(view)
  const refill = fillMiB(pool)
  t.is(refill.length, fresh)
  t.true(pool.check())
})
