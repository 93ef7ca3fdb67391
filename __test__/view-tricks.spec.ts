// free, realloc and mallocUsableSize never trust what user code can redefine
// (issue 12, item 4): a view's own properties, its prototype chain, the
// built-ins' prototypes, look-alike views. Each trick runs in a child
// process; after it, allocations of every class follow, and the test checks
// that no block was handed out twice (views pairwise disjoint), every live
// neighbour kept its bytes, and check() is true. Before the fix, the
// byteLength tricks (and the Map, Array and Math ones) gave a 1 MiB or
// 500-byte view over a 16-byte block, over live neighbours.
import test from 'ava'

import { runIsolated } from './isolated.js'

interface OpResult {
  op: string
  outcome: string
  usable: number | null
  intact: boolean
  disjoint: boolean
  check: boolean
}

/**
 * Each trick is the body of `(pool, victim, neighbour) => { target, restore }`:
 * `target` is what the call receives; `restore` undoes global changes.
 */
const tricks: Record<string, { source: string; outcome: 'ok' | string }> = {
  'own byteLength value': {
    source: `Object.defineProperty(victim, 'byteLength', { value: 1 << 20 }); return { target: victim }`,
    outcome: 'ok',
  },
  'own byteLength getter': {
    source: `Object.defineProperty(victim, 'byteLength', { get: () => 1 << 20 }); return { target: victim }`,
    outcome: 'ok',
  },
  'own byteOffset pointing at a neighbour': {
    source: `Object.defineProperty(victim, 'byteOffset', { value: neighbour.byteOffset }); return { target: victim }`,
    outcome: 'ok',
  },
  'own length and buffer': {
    source: `
      Object.defineProperty(victim, 'length', { value: 1 << 20 })
      Object.defineProperty(victim, 'buffer', { value: new ArrayBuffer(1 << 20) })
      return { target: victim }`,
    outcome: 'ok',
  },
  'Symbol.toStringTag and constructor': {
    source: `
      Object.defineProperty(victim, Symbol.toStringTag, { value: 'Float64Array' })
      victim.constructor = Float64Array
      return { target: victim }`,
    outcome: 'ok',
  },
  'a prototype with its own byteLength': {
    source: `
      Object.setPrototypeOf(victim, Object.create(Uint8Array.prototype, { byteLength: { get: () => 1 << 20 } }))
      return { target: victim }`,
    outcome: 'ok',
  },
  'a subclass prototype': {
    source: `
      class Big extends Uint8Array { get byteLength() { return 1 << 20 } get byteOffset() { return 0 } }
      Object.setPrototypeOf(victim, Big.prototype)
      return { target: victim }`,
    outcome: 'ok',
  },
  'a null prototype': {
    source: `Object.setPrototypeOf(victim, null); return { target: victim }`,
    outcome: 'ok',
  },
  '%TypedArray%.prototype.byteLength redefined': {
    source: `
      const TA = Object.getPrototypeOf(Uint8Array.prototype)
      const saved = Object.getOwnPropertyDescriptor(TA, 'byteLength')
      Object.defineProperty(TA, 'byteLength', {
        get() { const n = saved.get.call(this); return n === 16 ? 1 << 20 : n },
        configurable: true,
      })
      return { target: victim, restore: () => Object.defineProperty(TA, 'byteLength', saved) }`,
    outcome: 'ok',
  },
  'a Proxy of the view': {
    source: `return { target: new Proxy(victim, {}) }`,
    outcome: 'TypeError:ERR_INVALID_ARG_TYPE',
  },
  'a DataView over the block': {
    source: `return { target: new DataView(victim.buffer, victim.byteOffset, 16) }`,
    outcome: 'TypeError:ERR_INVALID_ARG_TYPE',
  },
  'a Float64Array over the block': {
    source: `return { target: new Float64Array(victim.buffer, victim.byteOffset, 2) }`,
    outcome: 'VmemError:EINVAL',
  },
  'a look-alike object with ArrayBuffer.isView replaced': {
    source: `
      const saved = ArrayBuffer.isView
      ArrayBuffer.isView = () => true
      return {
        target: { buffer: victim.buffer, byteOffset: victim.byteOffset, byteLength: 16, length: 16 },
        restore: () => { ArrayBuffer.isView = saved },
      }`,
    outcome: 'TypeError:ERR_INVALID_ARG_TYPE',
  },
  'Map.prototype.get vouching for a subarray': {
    source: `
      const target = victim.subarray(8)
      const saved = Map.prototype.get
      Map.prototype.get = function (key) {
        const found = saved.call(this, key)
        return found == null && key === victim.byteOffset + 8 ? target : found
      }
      return { target, restore: () => { Map.prototype.get = saved } }`,
    outcome: 'VmemError:EINVAL',
  },
  'Array.prototype.pop handing out a neighbour': {
    source: `
      // A block freed into the 16-byte class first, so that a malloc(16) reuses one.
      pool.free(pool.malloc(16))
      const saved = Array.prototype.pop
      Array.prototype.pop = function () { saved.call(this); return neighbour.byteOffset }
      return { target: victim, restore: () => { Array.prototype.pop = saved } }`,
    outcome: 'ok',
  },
  'a view made non-extensible': {
    source: `Object.preventExtensions(victim); return { target: victim }`,
    outcome: 'ok',
  },
  'private fields of a user class added to the view (return override)': {
    source: `
      class ReturnsTarget { constructor(target) { return target } }
      class Marked extends ReturnsTarget { #mark = 1; static has(o) { return #mark in o } }
      new Marked(victim)
      if (!Marked.has(victim)) throw new Error('the user mark did not land')
      return { target: victim }`,
    outcome: 'ok',
  },
  'Math.clz32 and Math.ceil replaced': {
    source: `
      const { clz32, ceil } = Math
      Math.clz32 = () => 20
      Math.ceil = () => 1
      return { target: victim, restore: () => { Math.clz32 = clz32; Math.ceil = ceil } }`,
    outcome: 'ok',
  },
}

for (const [name, trick] of Object.entries(tricks)) {
  test(`free, realloc, mallocUsableSize through a trick: ${name}`, (t) => {
    const run = runIsolated<OpResult[]>(`
      const TA = Object.getPrototypeOf(Uint8Array.prototype)
      const offsetOf = Function.prototype.call.bind(Object.getOwnPropertyDescriptor(TA, 'byteOffset').get)
      const lengthOf = Function.prototype.call.bind(Object.getOwnPropertyDescriptor(TA, 'byteLength').get)
      const every = Function.prototype.call.bind(TA.every)
      const trick = (pool, victim, neighbour) => { ${trick.source} }
      const results = []
      for (const op of ['free', 'realloc', 'mallocUsableSize']) {
        const pool = Pool.create('/dev/shm', 64 << 20)
        const neighbours = Array.from({ length: 256 }, (_, i) => pool.malloc(16).fill(i & 0xff))
        const victim = pool.malloc(16).fill(0x99)
        const big = pool.malloc(1 << 20).fill(0x77)
        const { target, restore } = trick(pool, victim, neighbours[100])
        let outcome = 'ok', usable = null, resized = null
        try {
          if (op === 'free') pool.free(target)
          else if (op === 'realloc') resized = pool.realloc(target, 24)
          else usable = pool.mallocUsableSize(target)
        } catch (err) { outcome = err.name + ':' + (err.code ?? '') }
        // What a wrong size class or a wrong offset would misplace.
        const after = []
        for (let i = 0; i < 8; i++) after.push(pool.malloc(500).fill(0xdd))
        for (let i = 0; i < 64; i++) after.push(pool.malloc(16).fill(0xee))
        for (let i = 0; i < 8; i++) after.push(pool.malloc(8).fill(0xed))
        for (let i = 0; i < 2; i++) after.push(pool.malloc(1 << 20).fill(0xcc))
        if (restore) restore()
        const live = [...neighbours, big, ...after]
        const victimLive = !(outcome === 'ok' && op !== 'mallocUsableSize')
        if (victimLive) live.push(victim)
        if (resized !== null) live.push(resized)
        const intact =
          neighbours.every((v, i) => every(v, (b) => b === (i & 0xff))) &&
          every(big, (b) => b === 0x77) &&
          (!victimLive || every(victim, (b) => b === 0x99))
        const ranges = live.map((v) => [offsetOf(v), offsetOf(v) + lengthOf(v)]).sort((a, b) => a[0] - b[0])
        const disjoint = ranges.every((r, i) => i === 0 || ranges[i - 1][1] <= r[0])
        results.push({ op, outcome, usable, intact, disjoint, check: pool.check() })
        pool.delete()
      }
      report(results)
    `)
    t.is(run.signal, null, run.ending)
    t.deepEqual(
      run.result,
      ['free', 'realloc', 'mallocUsableSize'].map((op) => ({
        op,
        outcome: trick.outcome,
        usable: op === 'mallocUsableSize' && trick.outcome === 'ok' ? 16 : null,
        intact: true,
        disjoint: true,
        check: true,
      })),
      run.ending,
    )
  })
}

test('wcsdup and strdup run no user code between the handle check and the new view', (t) => {
  // Before: wcsdup went through the string iterator (Array.from) after
  // checking the pool; an iterator that deleted the pool and made another
  // (same handle) got the block allocated in the other pool and leaked there.
  const run = runIsolated<{ wide: number[]; narrow: number[]; otherAllocated: number; deleted: boolean }>(`
    const pool = Pool.create('/dev/shm', MIN_POOL)
    let other = null
    const take = () => {
      if (other === null) { pool.delete(); other = Pool.create('/dev/shm', MIN_POOL) }
    }
    const iterator = String.prototype[Symbol.iterator]
    String.prototype[Symbol.iterator] = function () { take(); return iterator.call(this) }
    const { byteLength } = Buffer
    Buffer.byteLength = (...args) => { take(); return byteLength(...args) }
    const { encodeInto } = TextEncoder.prototype
    TextEncoder.prototype.encodeInto = function (...args) { take(); return encodeInto.apply(this, args) }
    let wide = [], narrow = []
    try { wide = [...new Uint32Array(pool.wcsdup('h\u00e9\u{1F600}'))] } catch (err) { wide = [err.code] }
    try { narrow = [...new Uint8Array(pool.strdup('h\u00e9'))] } catch (err) { narrow = [err.code] }
    String.prototype[Symbol.iterator] = iterator
    const otherAllocated = other === null ? 0 : other.stats().allocated
    report({ wide, narrow, otherAllocated, deleted: pool.deleted })
  `)
  t.is(run.signal, null, run.ending)
  t.deepEqual(
    run.result,
    { wide: [0x68, 0xe9, 0x1f600, 0], narrow: [0x68, 0xc3, 0xa9, 0], otherAllocated: 0, deleted: false },
    run.ending,
  )
})

test('allocBuffer and realloc of a Buffer run no user code while the block is not yet the view', (t) => {
  // Buffer.from read the memory's byteLength through ArrayBuffer.prototype:
  // a getter there that called into the pool gave the new block back under
  // the Buffer (a live Buffer over a freed block, later freed twice).
  const run = runIsolated<{ calls: number; distinct: boolean; allocated: number; checked: boolean }>(`
    const pool = Pool.create('/dev/shm', MIN_POOL)
    const real = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')
    let calls = 0
    Object.defineProperty(ArrayBuffer.prototype, 'byteLength', {
      configurable: true,
      get() { calls++; pool.stats(); return real.get.call(this) },
    })
    const buffer = pool.allocBuffer(64)
    const moved = pool.realloc(pool.allocBuffer(64), 128)
    Object.defineProperty(ArrayBuffer.prototype, 'byteLength', real)
    const other = pool.malloc(64)
    const distinct = new Set([buffer.byteOffset, moved.byteOffset, other.byteOffset]).size === 3
    pool.free(other)
    pool.free(moved)
    pool.free(buffer)
    pool.flush()
    report({ calls, distinct, allocated: pool.stats().allocated, checked: pool.check() })
  `)
  t.is(run.signal, null, run.ending)
  t.deepEqual(run.result, { calls: 0, distinct: true, allocated: 0, checked: true }, run.ending)
})
