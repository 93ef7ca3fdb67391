import test from 'ava'

import { MIN_POOL, Pool, VmemError, type PoolArrayConstructor } from '../index.js'

const SHM = '/dev/shm'
const classes: PoolArrayConstructor[] = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
]

test('allocArray gives a typed array of each class, aligned to its element size', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  for (const Ctor of classes) {
    for (const count of [0, 1, 3, 100, 5000]) {
      const array = pool.allocArray(Ctor, count)
      t.is(Object.getPrototypeOf(array), Ctor.prototype)
      t.is(array.length, count)
      t.is(array.byteOffset % Ctor.BYTES_PER_ELEMENT, 0)
      t.is(array.byteOffset % 8, 0)
      t.true(pool.mallocUsableSize(array) >= count * Ctor.BYTES_PER_ELEMENT)
      pool.free(array)
      t.throws(() => pool.free(array), { instanceOf: VmemError, code: 'EINVAL' })
    }
  }
  const doubles = pool.allocArray(Float64Array, 4)
  doubles.set([1.5, -2, Math.PI, 1e300])
  t.deepEqual([...doubles], [1.5, -2, Math.PI, 1e300])
  const big = pool.allocArray(BigInt64Array, 2)
  big[0] = -(2n ** 63n)
  t.is(big[0], -(2n ** 63n))
  pool.free(doubles)
  pool.free(big)
})

test('realloc keeps the typed array class and contents; sizes are bytes in whole elements', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  const doubles = pool.allocArray(Float64Array, 4)
  doubles.set([1, 2, 3, 4])
  const grown = pool.realloc(doubles, 8 * 1000)
  if (grown === null) throw new Error('realloc returned null')
  t.true(grown instanceof Float64Array)
  t.is(grown.length, 1000)
  t.deepEqual([...grown.subarray(0, 4)], [1, 2, 3, 4])
  t.throws(() => pool.realloc(grown, 12), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.is(grown.length, 1000, 'untouched after a refused size')
  const shrunk = pool.realloc(grown, 16) as Float64Array
  t.deepEqual([...shrunk], [1, 2])
  t.is(pool.realloc(shrunk, 0), null)
  const ints = pool.allocArray(Int32Array, 3)
  const wider = pool.realloc(ints, 400) as Int32Array
  t.is(Object.getPrototypeOf(wider), Int32Array.prototype)
  pool.free(wider)
})

test('allocBuffer gives a Buffer over pool memory; realloc keeps it a Buffer', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  const buffer = pool.allocBuffer(11)
  t.true(Buffer.isBuffer(buffer))
  buffer.write('hello world')
  t.is(buffer.toString(), 'hello world')
  const moved = pool.realloc(buffer, 5000)
  t.true(Buffer.isBuffer(moved))
  t.is(moved?.subarray(0, 11).toString(), 'hello world')
  t.is(pool.mallocUsableSize(moved as Buffer), 5120)
  // A ref and a view of it: the bytes, as a Uint8Array.
  const view = pool.view(pool.ref(moved as Buffer))
  t.is(view, moved as Buffer)
  pool.free(moved)
  t.throws(() => pool.free(moved), { instanceOf: VmemError, code: 'EINVAL' })
})

test('allocArray refuses what is not a typed array class, and odd counts', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  class Doubles extends Float64Array {}
  for (const odd of [Array, DataView, Doubles, null, 'Float64Array', {}, ArrayBuffer]) {
    t.throws(() => pool.allocArray(odd as unknown as PoolArrayConstructor, 1), {
      instanceOf: TypeError,
      code: 'ERR_INVALID_ARG_TYPE',
    })
  }
  t.throws(() => pool.allocArray(Float64Array, -1), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => pool.allocArray(Float64Array, 2 ** 53 - 1), { instanceOf: VmemError, code: 'ENOMEM' })
  t.throws(() => pool.allocArray(Float64Array, 2 ** 30), { instanceOf: VmemError, code: 'ENOMEM' })
  t.throws(() => pool.allocBuffer(1.5), { code: 'ERR_OUT_OF_RANGE' })
  // A replaced global changes nothing.
  const original = globalThis.Float64Array
  try {
    ;(globalThis as { Float64Array: unknown }).Float64Array = Doubles
    t.true(pool.allocArray(original, 2) instanceof original)
  } finally {
    globalThis.Float64Array = original
  }
})

test('freed arrays are reused by size class', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  const doubles = pool.allocArray(Float64Array, 10)
  const offset = doubles.byteOffset
  pool.free(doubles)
  t.is(pool.allocArray(Int32Array, 20).byteOffset, offset, '80 bytes again')
})
