import test from 'ava'

import { MIN_POOL, PAGE_SIZE, Pool, VmemError } from '../index.js'

// Room for the interior's alignment at both ends, whatever the page size.
const REGION = MIN_POOL + 3 * PAGE_SIZE

for (const kind of ['ArrayBuffer', 'SharedArrayBuffer'] as const) {
  const make = (size: number): ArrayBuffer | SharedArrayBuffer =>
    kind === 'ArrayBuffer' ? new ArrayBuffer(size) : new SharedArrayBuffer(size)

  test(`createInRegion works over a ${kind} and leaves it usable`, (t) => {
    const region = make(REGION)
    new Uint8Array(region).fill(0xee)
    const pool = Pool.createInRegion(region)
    t.true(pool.size >= MIN_POOL && pool.size < REGION)
    const zeroed = pool.calloc(1, 1 << 20)
    t.true(zeroed.every((byte) => byte === 0))
    const view = pool.malloc(1000).fill(7)
    t.not(view.buffer, region)
    t.true(pool.check())
    pool.free(view)
    pool.delete()
    t.is(zeroed.length, 0)
    // The caller's buffer is still whole and writable.
    t.is(region.byteLength, REGION)
    new Uint8Array(region).fill(1)
  })

  test(`createInRegion over a too small ${kind} is EINVAL`, (t) => {
    const err = t.throws(() => Pool.createInRegion(make(MIN_POOL)), { instanceOf: VmemError })
    t.is(err?.code, 'EINVAL')
  })
}

test('createInRegion refuses what is not a buffer', (t) => {
  for (const bad of [new Uint8Array(REGION), null, 'x', {}]) {
    t.throws(() => Pool.createInRegion(bad as unknown as ArrayBuffer), {
      instanceOf: TypeError,
      code: 'ERR_INVALID_ARG_TYPE',
    })
  }
})

test("a region's ArrayBuffer stays attached while the pool uses it", (t) => {
  const region = new ArrayBuffer(REGION)
  using pool = Pool.createInRegion(region)
  const view = pool.malloc(64).fill(3)
  try {
    structuredClone(region, { transfer: [region] })
  } catch {
    // Node.js 22 and 24 refuse; 20 copies and leaves the region in place.
  }
  t.is(region.byteLength, REGION)
  const movable = region as ArrayBuffer & { transfer?: () => ArrayBuffer }
  if (Object.hasOwn(ArrayBuffer.prototype, 'transfer')) {
    t.throws(() => movable.transfer?.())
    t.throws(() => structuredClone(view.buffer, { transfer: [view.buffer as ArrayBuffer] }))
  }
  t.is(region.byteLength, REGION)
  t.true(view.every((byte) => byte === 3))
  t.true(pool.check())
})

test('pool memory moved out with transfer() stays valid after delete()', (t) => {
  const pool = Pool.create('/dev/shm', MIN_POOL)
  const view = pool.malloc(64).fill(4)
  const memory = view.buffer as ArrayBuffer & { transfer?: () => ArrayBuffer }
  if (typeof memory.transfer !== 'function') {
    pool.delete()
    return t.pass('this Node.js has no ArrayBuffer.prototype.transfer')
  }
  const offset = view.byteOffset
  const moved = memory.transfer()
  t.is(view.length, 0)
  t.throws(() => pool.malloc(8))
  pool.delete()
  // The pool's mapping now belongs to `moved` and lives as long as it does.
  t.true(new Uint8Array(moved, offset, 64).every((byte) => byte === 4))
})
