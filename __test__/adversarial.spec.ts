// A corpus of misuses interleaved with valid work: the process survives,
// every misuse throws, and the pool still checks out with its contents intact.
import test from 'ava'

import { MIN_POOL, Pool, VmemError, checkVersion, setFuncs } from '../index.js'

const badCounts: unknown[] = [
  -1,
  -0.5,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 53,
  2 ** 64,
  '16',
  '',
  null,
  undefined,
  true,
  {},
  [],
  [8],
  8n,
  Symbol('size'),
  () => 8,
  new Number(8),
]
const badViews: unknown[] = [
  undefined,
  0,
  'view',
  {},
  [],
  new ArrayBuffer(8),
  new DataView(new ArrayBuffer(8)),
  new Uint8Array(8),
  new Float64Array(2),
  Buffer.alloc(8),
  { buffer: new ArrayBuffer(8), byteOffset: 0, byteLength: 8 },
]

test('every misuse throws; the pool keeps its contents and checks out', (t) => {
  using pool = Pool.create('/dev/shm', 64 * 1024 * 1024)
  using other = Pool.create('/dev/shm', MIN_POOL)
  const kept = Array.from({ length: 64 }, (_, i) => pool.malloc(100 + i).fill(i))
  const any = pool as unknown as Record<string, (...args: unknown[]) => unknown>
  let misuses = 0
  const misuse = (action: () => unknown): void => {
    misuses++
    const err = t.throws(action)
    t.true(err instanceof TypeError || err instanceof RangeError || err instanceof VmemError, String(err))
    // Valid work between misuses.
    const view = pool.malloc(32).fill(0xee)
    pool.free(view)
  }

  for (const bad of badCounts) {
    misuse(() => any.malloc?.(bad))
    misuse(() => any.calloc?.(bad, 1))
    misuse(() => any.calloc?.(1, bad))
    misuse(() => any.alignedAlloc?.(bad, 8))
    misuse(() => any.alignedAlloc?.(8, bad))
    misuse(() => any.realloc?.(null, bad))
    misuse(() => Pool.create('/dev/shm', bad as number))
    if (typeof bad !== 'string') misuse(() => any.strdup?.(bad))
  }
  for (const bad of badViews) {
    misuse(() => pool.free(bad as Uint8Array))
    misuse(() => pool.realloc(bad as Uint8Array, 8))
    misuse(() => pool.mallocUsableSize(bad as Uint8Array))
  }
  for (const alignment of [0, 3, 6, 12, 100, 1000, 2 ** 52 + 1]) misuse(() => pool.alignedAlloc(alignment, 8))
  misuse(() => pool.calloc(2 ** 30, 2 ** 30))
  misuse(() => pool.calloc(2 ** 52, 4))
  misuse(() => pool.malloc(2 ** 52))
  misuse(() => Pool.create(123 as unknown as string, MIN_POOL))
  misuse(() => Pool.create('/dev/shm', MIN_POOL - 1))
  misuse(() => Pool.createInRegion(new Uint8Array(MIN_POOL * 2) as unknown as ArrayBuffer))
  misuse(() => checkVersion(1.5, 0))
  misuse(() => setFuncs({ print: 42 as unknown as () => void }))
  misuse(() => pool.statsPrint(7 as unknown as string))

  // Views that are not live allocations of this pool.
  const victim = pool.malloc(64)
  misuse(() => pool.free(victim.subarray(0, 63)))
  misuse(() => pool.free(new Uint8Array(victim.buffer, victim.byteOffset, 64)))
  misuse(() => pool.free(new Uint8Array(victim)))
  misuse(() => other.free(victim))
  misuse(() => other.realloc(victim, 128))
  pool.free(victim)
  misuse(() => pool.free(victim))
  misuse(() => pool.realloc(victim, 10))
  misuse(() => pool.mallocUsableSize(victim))

  // Delete during iteration: the rest of the loop sees a deleted pool.
  const doomed = Pool.create('/dev/shm', MIN_POOL)
  const views = Array.from({ length: 10 }, () => doomed.malloc(16))
  let thrown = 0
  views.forEach((view, i) => {
    if (i === 3) doomed.delete()
    try {
      doomed.free(view)
    } catch (err) {
      t.true(err instanceof VmemError)
      thrown++
    }
    t.is(view.length, i < 3 ? 16 : 0)
  })
  t.is(thrown, 7)

  t.true(pool.check())
  kept.forEach((view, i) =>
    t.true(
      view.every((byte) => byte === i),
      `view ${i} damaged`,
    ),
  )
  t.log(`${misuses} misuses tried`)
  t.true(misuses > 200)
})

test('hostile arguments get the clear TypeError: describing them runs no user code', (t) => {
  using pool = Pool.create('/dev/shm', MIN_POOL)
  const view = pool.malloc(8)
  const boom = (): never => {
    throw new Error('user code ran')
  }
  const hostile: [unknown, RegExp][] = [
    [new Proxy(view, {}), /Received a Proxy$/],
    [new Proxy({}, { get: boom, getPrototypeOf: boom, getOwnPropertyDescriptor: boom }), /Received a Proxy$/],
    [Object.defineProperty({}, 'constructor', { get: boom }), /Received an instance of Object$/],
    [Object.create(new Proxy({}, { getOwnPropertyDescriptor: boom, get: boom })), /Received an object$/],
    [new (class Named {})(), /Received an instance of Named$/],
    [Object.create(null), /Received an object$/],
    [Object.defineProperty(() => 0, 'name', { get: boom }), /Received a function$/],
    [function named() {}, /Received function named$/],
  ]
  for (const [value, message] of hostile) {
    for (const call of [
      () => pool.free(value as Uint8Array),
      () => pool.mallocUsableSize(value as Uint8Array),
    ]) {
      t.throws(call, { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message })
    }
  }
  pool.free(view)
  t.true(pool.check())
})
