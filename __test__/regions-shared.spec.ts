// Memory is never shared by two pools, and a region cannot shrink or move
// from under its pool (issue 12, items 1-3 and 7). Each case runs in a child
// process: before the fixes, these ended in SIGSEGV.
import test from 'ava'
import { execFileSync } from 'node:child_process'

import { MIN_POOL, PAGE_SIZE, Pool, VmemError } from '../index.js'
import { runIsolated } from './isolated.js'
import { nodeMajor } from './helpers.js'

interface Outcome {
  code: string | null
  check: boolean
  intact: boolean
}

// After a refusal the first pool must still work: malloc/free rounds, its
// contents intact. (Had the second pool been made, these rounds are what
// crashed: both arenas handing out the same bytes.)
const rounds = `
  const exercise = (pools) => {
    const kept = pools.map((p, i) => p.malloc(4096).fill(i + 1))
    for (let round = 0; round < 200; round++) {
      for (const p of pools) {
        const views = Array.from({ length: 50 }, (_, j) => p.malloc(16 + j * 64).fill(0xaa))
        for (const v of views) p.free(v)
      }
    }
    return kept.every((v, i) => v.every((b) => b === i + 1))
  }
`

for (const kind of ['ArrayBuffer', 'SharedArrayBuffer'] as const) {
  test(`a second pool in the same ${kind} is refused with EBUSY`, (t) => {
    const run = runIsolated<Outcome>(`
      ${rounds}
      const region = new ${kind}(MIN_POOL + 4 * PAGE_SIZE)
      const first = Pool.createInRegion(region)
      let code = null
      const pools = [first]
      try { pools.push(Pool.createInRegion(region)) } catch (err) { code = err.code }
      const intact = exercise(pools)
      report({ code, check: first.check(), intact })
      for (const p of pools) p.delete()
    `)
    t.is(run.signal, null, run.ending)
    t.deepEqual(run.result, { code: 'EBUSY', check: true, intact: true }, run.ending)
  })
}

test('the refusal names the overlap, and ends when the first pool is deleted', (t) => {
  const region = new SharedArrayBuffer(MIN_POOL + 4 * PAGE_SIZE)
  const first = Pool.createInRegion(region)
  const err = t.throws(() => Pool.createInRegion(region), { instanceOf: VmemError })
  t.is(err?.code, 'EBUSY')
  t.regex(err?.message ?? '', /overlaps the live pool/)
  t.true(first.check())
  first.delete()
  const second = Pool.createInRegion(region)
  t.true(second.check())
  second.malloc(100).fill(1)
  second.delete()
})

test('a worker cannot make a pool in a SharedArrayBuffer the main thread uses', (t) => {
  const run = runIsolated<Outcome & { after: string | null; kept: string | null; afterExit: boolean }>(`
    ${rounds}
    const { Worker } = require('node:worker_threads')
    const region = new SharedArrayBuffer(MIN_POOL + 4 * PAGE_SIZE)
    const main = Pool.createInRegion(region)
    const exited = []
    const inWorker = (sab, keep = false) => new Promise((resolve, reject) => {
      const worker = new Worker(\`
        const { parentPort, workerData } = require('node:worker_threads')
        const { Pool } = require(\${JSON.stringify(INDEX)})
        let code = null
        try {
          const pool = Pool.createInRegion(workerData.sab)
          // Before the fix: this pool's blocks were the main pool's too.
          for (let i = 0; i < 20000; i++) pool.free(pool.malloc(16 + (i % 64) * 16).fill(0x55))
          pool.malloc(1 << 20).fill(0x55)
          // Kept: the pool goes when the worker's environment ends.
          if (workerData.keep) globalThis.keptPool = pool
          else pool.delete()
        } catch (err) { code = err.code }
        parentPort.postMessage(code)
      \`, { eval: true, workerData: { sab, keep } })
      worker.once('exit', () => exited.push(keep))
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    const code = await inWorker(region)
    const intact = exercise([main])
    const check = main.check()
    main.delete()
    // Once the main thread's pool is gone, the worker may use the memory.
    const after = await inWorker(region)
    // A worker that ends without delete(): its pool goes with it.
    const kept = await inWorker(region, true)
    while (exited.length < 3) await new Promise((resolve) => setTimeout(resolve, 10))
    const again = Pool.createInRegion(region)
    const afterExit = exercise([again])
    again.delete()
    report({ code, check, intact, after, kept, afterExit })
  `)
  t.is(run.signal, null, run.ending)
  t.deepEqual(
    run.result,
    { code: 'EBUSY', check: true, intact: true, after: null, kept: null, afterExit: true },
    run.ending,
  )
})

test("a pool inside another pool's memory is refused, in either order of delete", (t) => {
  const run = runIsolated<{ file: string | null; region: string | null; deleted: string | null }>(`
    const outer = Pool.create('/dev/shm', 4 * MIN_POOL)
    const memory = outer.malloc(16).buffer
    let file = null
    try {
      const inner = Pool.createInRegion(memory)
      outer.delete()
      inner.malloc(1 << 20).fill(1)
    } catch (err) { file = err.code }
    // The same inside a region pool's memory.
    const regionPool = Pool.createInRegion(new ArrayBuffer(4 * MIN_POOL))
    let region = null
    try {
      const inner = Pool.createInRegion(regionPool.malloc(16).buffer)
      regionPool.delete()
      inner.malloc(1 << 20).fill(1)
    } catch (err) { region = err.code }
    outer.delete()
    regionPool.delete()
    // A deleted pool's memory is detached: nothing left to build on.
    let deleted = null
    try { Pool.createInRegion(memory) } catch (err) { deleted = err.code ?? err.name }
    report({ file, region, deleted })
  `)
  t.is(run.signal, null, run.ending)
  t.deepEqual(run.result, { file: 'EBUSY', region: 'EBUSY', deleted: 'TypeError' }, run.ending)
})

test('resizable ArrayBuffers and growable SharedArrayBuffers are refused', (t) => {
  const run = runIsolated<string[]>(`
    const codes = []
    for (const make of [
      () => new ArrayBuffer(2 * MIN_POOL, { maxByteLength: 4 * MIN_POOL }),
      () => new SharedArrayBuffer(2 * MIN_POOL, { maxByteLength: 4 * MIN_POOL }),
    ]) {
      const region = make()
      try {
        const pool = Pool.createInRegion(region)
        const view = pool.malloc(1 << 20).fill(1)
        // Before the fix: the pool's memory went away under its views.
        if (region.resize) region.resize(0)
        view.fill(2)
        codes.push('created')
      } catch (err) { codes.push(err.name + ':' + err.code) }
    }
    report(codes)
  `)
  t.is(run.signal, null, run.ending)
  t.deepEqual(run.result, ['TypeError:ERR_INVALID_ARG_VALUE', 'TypeError:ERR_INVALID_ARG_VALUE'], run.ending)
})

test('an object that only inherits from ArrayBuffer.prototype is refused', (t) => {
  const run = runIsolated<string[]>(`
    const codes = []
    const fakes = [
      Object.setPrototypeOf(new Uint8Array(MIN_POOL + 4 * PAGE_SIZE), ArrayBuffer.prototype),
      Object.setPrototypeOf({ length: MIN_POOL + 4 * PAGE_SIZE }, SharedArrayBuffer.prototype),
    ]
    for (const fake of fakes) {
      try {
        // Before the fix: the pool lived in a temporary copy that was then collected.
        const pool = Pool.createInRegion(fake)
        for (let i = 0; i < 3; i++) { new Uint8Array(64 << 20).fill(9); globalThis.gc() }
        pool.malloc(8 << 20).fill(1)
        codes.push('created')
      } catch (err) { codes.push(err.name + ':' + err.code) }
    }
    report(codes)
  `)
  t.is(run.signal, null, run.ending)
  t.deepEqual(run.result, ['TypeError:ERR_INVALID_ARG_TYPE', 'TypeError:ERR_INVALID_ARG_TYPE'], run.ending)
})

test("ArrayBuffer.prototype.transfer cannot move a region's memory away", (t) => {
  if (typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer !== 'function') {
    return t.pass(`Node.js ${nodeMajor} has no ArrayBuffer.prototype.transfer`)
  }
  const run = runIsolated<{ transferred: string[]; length: number; intact: boolean; other: number }>(`
    const region = new ArrayBuffer(MIN_POOL + 4 * PAGE_SIZE)
    const pool = Pool.createInRegion(region)
    const view = pool.malloc(1 << 20).fill(7)
    const transferred = []
    for (const name of ['transfer', 'transferToFixedLength']) {
      try {
        // Before the fix (Node.js 22): the region was detached and its
        // memory handed to a new buffer, collected next.
        ArrayBuffer.prototype[name].call(region)
        transferred.push(name)
      } catch {}
    }
    for (let i = 0; i < 3; i++) { new Uint8Array(64 << 20).fill(9); globalThis.gc() }
    view.fill(8)
    pool.malloc(4 << 20).fill(8)
    // Other buffers transfer as before.
    const other = new ArrayBuffer(16).transfer(32).byteLength
    report({ transferred, length: region.byteLength, intact: view.every((b) => b === 8), other })
    pool.delete()
  `)
  t.is(run.signal, null, run.ending)
  t.deepEqual(
    run.result,
    { transferred: [], length: MIN_POOL + 4 * PAGE_SIZE, intact: true, other: 32 },
    run.ending,
  )
})

test('region pools dropped without delete() never make a new region look busy', (t) => {
  // A region's ArrayBuffer and its pool are collected together; the next
  // buffer may reuse the same address before the pool's finalizer has run.
  const run = runIsolated<{ made: number; busy: number }>(`
    let made = 0, busy = 0
    for (let i = 0; i < 40; i++) {
      try {
        const pool = Pool.createInRegion(new ArrayBuffer(MIN_POOL + 2 * PAGE_SIZE))
        pool.malloc(64).fill(1)
        made++
      } catch (err) {
        if (err.code !== 'EBUSY') throw err
        busy++
      }
      if (i % 4 === 3) globalThis.gc()
    }
    report({ made, busy })
  `)
  t.is(run.signal, null, run.ending)
  t.deepEqual(run.result, { made: 40, busy: 0 }, run.ending)
})

test('the page size is the system one, and a region pool starts on a page boundary', (t) => {
  t.is(PAGE_SIZE, Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()))
  for (const extra of [1, PAGE_SIZE - 1, PAGE_SIZE, 3 * PAGE_SIZE + 5]) {
    const region = new ArrayBuffer(MIN_POOL + PAGE_SIZE + extra)
    using pool = Pool.createInRegion(region)
    t.is(pool.size % PAGE_SIZE, 0)
    // The interior starts within one page past the first byte and ends on a
    // page boundary at most one page before the region's end.
    const lost = region.byteLength - pool.size
    t.true(lost >= 1 && lost < 2 * PAGE_SIZE, `lost ${lost}`)
    t.is(pool.alignedAlloc(PAGE_SIZE, 100).byteOffset % PAGE_SIZE, 0)
  }
})
