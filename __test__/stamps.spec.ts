// Attacks on view liveness (lib/stamps.ts): every view a handle hands out is
// stamped as that handle's live block, and free/realloc/mallocUsableSize/ref
// accept nothing else. Each test ends with the pool-wide invariant: check()
// is true and, once everything is freed and flushed, nothing is allocated.
import test, { type ExecutionContext } from 'ava'
import fc from 'fast-check'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import { MIN_POOL, Pool, VmemError, type PoolView } from '../index.js'
import { runIsolated } from './isolated.js'

const SHM = '/dev/shm'
const einval = { instanceOf: VmemError, code: 'EINVAL' }

/** Every entry point that takes a view refuses `view` with EINVAL. */
function refused(t: ExecutionContext, pool: Pool, view: PoolView, what: string): void {
  t.throws(() => pool.free(view), einval, `free: ${what}`)
  t.throws(() => pool.realloc(view, 256), einval, `realloc: ${what}`)
  t.throws(() => pool.mallocUsableSize(view), einval, `mallocUsableSize: ${what}`)
  t.throws(() => pool.ref(view), einval, `ref: ${what}`)
}

/** The pool-wide invariant, once the test freed everything it allocated. */
function settled(t: ExecutionContext, pool: Pool): void {
  t.true(pool.check())
  pool.flush()
  t.is(pool.stats().allocated, 0)
}

test("a handle refuses another handle's views of the same pool, which stay live", (t) => {
  const a = Pool.create(SHM, MIN_POOL)
  const b = Pool.attach(a.share())
  const views: PoolView[] = [
    a.malloc(64),
    a.calloc(3, 40),
    a.alignedAlloc(256, 100),
    a.strdup('é'),
    a.wcsdup('𝄞'),
  ]
  views.push(a.allocArray(Float64Array, 5), a.allocBuffer(24), a.realloc(a.malloc(8), 300)!)
  for (const view of views) refused(t, b, view, 'a view of another handle')
  // Known by reference does not make A's own view B's: B takes its own with view().
  const shared = a.malloc(48)
  const ref = a.ref(shared)
  refused(t, b, shared, "A's view of a shared block")
  t.not(b.view(ref), shared)
  for (const view of views) a.free(view)
  a.free(shared)
  t.throws(() => b.view(ref), einval)
  b.delete()
  settled(t, a)
  a.delete()
})

test('views of a deleted handle are refused by every other handle and pool', async (t) => {
  const a = Pool.create(SHM, MIN_POOL)
  const b = Pool.attach(a.share())
  const other = Pool.create(SHM, MIN_POOL)
  const mine = b.malloc(32)
  const theirs = a.malloc(32)
  a.delete()
  t.throws(() => a.free(theirs), einval)
  refused(t, b, theirs, 'a view of a deleted handle')
  refused(t, other, theirs, "a view of another pool's deleted handle")
  const gone = b.malloc(16)
  await b.deleteAsync()
  t.is(gone.length, 0)
  t.throws(() => b.free(gone), einval)
  refused(t, other, mine, "a view of another pool's deleted handle")
  settled(t, other)
  other.delete()
})

test('freed views stay dead: realloc to 0, and an offset the next malloc reuses', (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  const array = pool.allocArray(Float64Array, 4)
  t.is(pool.realloc(array, 0), null)
  refused(t, pool, array, 'a view realloc() freed')
  const ref = pool.ref(pool.malloc(40))
  const shared = pool.view(ref)
  t.is(pool.realloc(shared, 0), null)
  refused(t, pool, shared, 'a shared view realloc() freed')
  t.throws(() => pool.view(ref), einval)
  // Kept for reuse, the offset comes back at once, to a new view.
  const old = pool.malloc(24)
  pool.free(old)
  const reused = pool.malloc(24).fill(1)
  t.is(reused.byteOffset, old.byteOffset)
  refused(t, pool, old, 'a freed view whose offset was reused')
  t.true(reused.every((byte) => byte === 1) && pool.mallocUsableSize(reused) >= 24)
  pool.free(reused)
  settled(t, pool)
  pool.delete()
})

test('a failed realloc (ENOMEM) leaves the view live, intact and freeable', (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  // A block kept for reuse makes realloc give it back and retry once.
  pool.free(pool.malloc(64))
  const view = pool.malloc(64).fill(9)
  const shared = pool.malloc(80).fill(8)
  const ref = pool.ref(shared)
  for (const victim of [view, shared]) {
    t.throws(() => pool.realloc(victim, MIN_POOL * 4), { instanceOf: VmemError, code: 'ENOMEM' })
  }
  t.true(view.every((byte) => byte === 9) && shared.every((byte) => byte === 8))
  t.true(pool.mallocUsableSize(view) >= 64)
  t.is(pool.view(ref), shared)
  pool.free(view)
  pool.free(shared)
  settled(t, pool)
  pool.delete()
})

test('a stale view never frees the block that took its place, from any handle', (t) => {
  const a = Pool.create(SHM, MIN_POOL)
  const b = Pool.attach(a.share())
  const old = a.malloc(40)
  const ref = a.ref(old)
  // A second stale view of the block, to try ref() with (every refused call ends a stale view).
  const shorter = a.view({ ...ref, length: 8 })
  // Freed through B, the block's offset comes back to A's next malloc.
  b.free(b.view(ref))
  const held: Uint8Array[] = []
  let fresh = a.malloc(40)
  while (fresh.byteOffset !== old.byteOffset && held.length < 1000) held.push((fresh = a.malloc(40)))
  t.is(fresh.byteOffset, old.byteOffset)
  fresh.fill(5)
  t.throws(() => a.free(old), einval)
  // ref() describes live blocks only: it asks the core, which knows the block is gone.
  t.throws(() => a.ref(shorter), einval)
  for (const view of [old, shorter]) refused(t, a, view, 'a view whose block another handle freed')
  t.throws(() => a.view(ref), einval)
  t.true(fresh.every((byte) => byte === 5))
  a.free(fresh)
  for (const view of held) a.free(view)
  b.delete()
  settled(t, a)
  a.delete()
})

test("a realloc in place ends every handle's view of the old block", (t) => {
  const a = Pool.create(SHM, MIN_POOL)
  const b = Pool.attach(a.share())
  const view = a.malloc(100)
  const ref = a.ref(view)
  const theirs = b.view(ref)
  const grown = a.realloc(view, 104)!
  t.is(grown.byteOffset, view.byteOffset, 'same size class: resized in place')
  grown.fill(6)
  refused(t, b, theirs, 'a view of the block before realloc')
  t.throws(() => b.view(ref), einval, 'the old ref names no block: B can take no view of the new one')
  refused(t, a, view, 'the view realloc replaced')
  t.true(grown.every((byte) => byte === 6))
  a.free(grown)
  b.delete()
  settled(t, a)
  a.delete()
})

test('odd objects: sealed and null-prototype views free once; copies and look-alikes never', (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  const sealed = Object.seal(Object.preventExtensions(pool.malloc(16)))
  const orphan = pool.malloc(16)
  Object.setPrototypeOf(orphan, null)
  for (const view of [sealed, orphan]) {
    pool.free(view)
    refused(t, pool, view, 'an odd view freed already')
  }
  const unfreezable = pool.malloc(8)
  t.throws(() => Object.freeze(unfreezable), { instanceOf: TypeError })
  pool.free(unfreezable)
  const view = pool.malloc(32)
  const buffer = pool.allocBuffer(32)
  const lookAlikes: Array<[string, PoolView]> = [
    ['a subarray', view.subarray(0)],
    ['a view of the same bytes', new Uint8Array(view.buffer, view.byteOffset, 32)],
    ['Buffer.from over the same bytes', Buffer.from(view.buffer, view.byteOffset, 32)],
    ["a Buffer's subarray", buffer.subarray(0)],
    ['a structured clone', structuredClone(view)],
  ]
  for (const [what, fake] of lookAlikes) refused(t, pool, fake, what)
  // Not typed arrays at all: a TypeError, as for any non-view.
  for (const fake of [new Proxy(view, {}), Object.create(view) as Uint8Array]) {
    t.throws(() => pool.free(fake), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  }
  pool.free(view)
  pool.free(buffer)
  // The stamp shows nowhere: no own key, the usual prototype; freezing keeps it.
  const empty = pool.malloc(0)
  t.deepEqual(Reflect.ownKeys(empty), [])
  t.is(Object.getPrototypeOf(empty), Uint8Array.prototype)
  pool.free(Object.freeze(empty))
  settled(t, pool)
  pool.delete()
})

test("a worker refuses posted copies of the main thread's views", async (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  const view = pool.malloc(16).fill(7)
  const source = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { Pool } = require(${JSON.stringify(join(__dirname, '..', 'index.js'))})
    const pool = Pool.attach(workerData.token)
    const outcome = (f) => { try { f(); return 'ok' } catch (e) { return e.code } }
    const mine = pool.view(workerData.ref)
    parentPort.postMessage({
      copy: outcome(() => pool.free(workerData.copy)),
      same: workerData.copy[0] === 7 && mine[0] === 7,
      own: outcome(() => pool.free(mine)),
    })
    pool.delete()`
  const worker = new Worker(source, {
    eval: true,
    workerData: { token: pool.share(), ref: pool.ref(view), copy: view },
  })
  let report: unknown
  worker.once('message', (message) => (report = message))
  await new Promise((resolve, reject) => {
    worker.once('error', reject)
    worker.once('exit', resolve)
  })
  t.deepEqual(report, { copy: 'EINVAL', same: true, own: 'ok' })
  refused(t, pool, view, 'a view the worker freed')
  settled(t, pool)
  pool.delete()
})

test('stamps survive garbage collection; a collected pool leaves nothing another pool takes', (t) => {
  const run = runIsolated<{ check: boolean; allocated: number; refused: unknown[] }>(`
    const pool = Pool.create('/dev/shm', MIN_POOL)
    const held = []
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 500; i++) held.push(pool.malloc(8 + ((i * 37) % 4000)))
      gc()
      for (let i = held.length - 1; i >= 0; i -= 2) pool.free(held.splice(i, 1)[0])
      for (let i = 0; i < 200; i++) pool.free(pool.malloc(i))
      gc()
    }
    const refused = []
    const outcome = (f) => { try { f(); return 'ok' } catch (e) { return e.code } }
    for (const view of held) pool.free(view)
    refused.push(outcome(() => pool.free(held[0])))
    // A pool collected without delete(), with a view still held.
    let lost = Pool.create('/dev/shm', MIN_POOL)
    const orphan = lost.malloc(64)
    const weak = new WeakRef(lost)
    lost = null
    for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setImmediate(r)) }
    // The view kept the memory, not the pool.
    refused.push(weak.deref() === undefined ? 'collected' : 'alive', orphan.fill(1).reduce((a, b) => a + b))
    const next = Pool.create('/dev/shm', MIN_POOL)
    refused.push(outcome(() => next.free(orphan)), outcome(() => pool.free(orphan)))
    next.delete()
    const check = pool.check()
    pool.flush()
    report({ check, allocated: pool.stats().allocated, refused })
    pool.delete()`)
  t.deepEqual(
    run.result,
    { check: true, allocated: 0, refused: ['EINVAL', 'collected', 64, 'EINVAL', 'EINVAL'] },
    run.ending,
  )
})

test('memory moved away with transfer(): allocations throw EINVAL and leak nothing', (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  const held = pool.malloc(64).fill(2)
  const shared = pool.malloc(32)
  const ref = pool.ref(shared)
  pool.free(pool.malloc(64)) // kept for reuse: the next malloc(64) takes it
  const memory = held.buffer as ArrayBuffer & { transfer?: () => ArrayBuffer }
  if (typeof memory.transfer !== 'function') {
    pool.delete()
    return t.pass('this Node.js has no ArrayBuffer.prototype.transfer')
  }
  const moved = memory.transfer()
  const allocations: Array<() => unknown> = [
    () => pool.malloc(64),
    () => pool.malloc(5000),
    () => pool.calloc(2, 8),
    () => pool.alignedAlloc(64, 64),
    () => pool.strdup('x'),
    () => pool.wcsdup('x'),
    () => pool.allocArray(Int32Array, 3),
    () => pool.allocBuffer(10),
    () => pool.realloc(held, 4000),
    () => pool.view(ref),
  ]
  for (const allocate of allocations) t.throws(allocate, einval)
  // What was live still is: it frees, and nothing else stays allocated.
  t.true(new Uint8Array(moved, held.byteOffset, 64).every((byte) => byte === 2))
  t.true(pool.mallocUsableSize(held) >= 64)
  pool.free(held)
  pool.free(shared)
  settled(t, pool)
  pool.delete()
})

/** One view a handle holds in the model below: which block, and whether its stamp is live. */
interface Held {
  view: PoolView
  handle: number
  block: number
  stamped: boolean
}

/** EINVAL as a value; any other error propagates. */
function outcome<R>(f: () => R): R | 'EINVAL' {
  try {
    return f()
  } catch (error) {
    if ((error as VmemError).code !== 'EINVAL') throw error
    return 'EINVAL'
  }
}

test('random frees, reallocs and refs across two handles match a model of stamps and blocks', (t) => {
  const kinds = fc.constantFrom('malloc', 'free', 'realloc', 'share')
  const op = fc.tuple(kinds, fc.nat(1), fc.nat(), fc.integer({ min: 1, max: 300 }))
  const run = (ops: Array<[string, number, number, number]>): void => {
    const a = Pool.create(SHM, MIN_POOL)
    const handles = [a, Pool.attach(a.share())]
    const held: Held[] = []
    const blockLive: boolean[] = []
    /** A new block's view, holding the block's number in its first byte. */
    const fresh = (view: PoolView, handle: number): void => {
      view[0] = blockLive.push(true) - 1
      held.push({ view, handle, block: blockLive.length - 1, stamped: true })
    }
    for (const [kind, h, pick, size] of ops) {
      const e = held[pick % Math.max(held.length, 1)]
      if (kind === 'malloc' || e === undefined) {
        fresh(handles[h]!.malloc(size), h)
      } else if (kind === 'share') {
        // ref() through the holder, view() through the other handle.
        const valid = e.stamped && blockLive[e.block]!
        const ref = outcome(() => handles[e.handle]!.ref(e.view))
        if ((ref === 'EINVAL') === valid) throw new Error(`ref: expected ${valid ? 'a ref' : 'EINVAL'}`)
        e.stamped = valid
        if (ref === 'EINVAL') continue
        const view = handles[1 - e.handle]!.view(ref)
        if (!held.some((other) => other.view === view)) {
          held.push({ view, handle: 1 - e.handle, block: e.block, stamped: true })
        }
      } else {
        const valid = e.handle === h && e.stamped && blockLive[e.block]!
        // Through its own handle, a view ends whatever the call's outcome.
        if (e.handle === h) e.stamped = false
        const result = outcome(() =>
          kind === 'free' ? handles[h]!.free(e.view) : handles[h]!.realloc(e.view, size),
        )
        if ((result === 'EINVAL') === valid)
          throw new Error(`${kind}: expected ${valid ? 'success' : 'EINVAL'}`)
        if (!valid) continue
        blockLive[e.block] = false
        if (kind === 'realloc') {
          const grown = result as PoolView
          if (grown[0] !== (e.block & 0xff)) throw new Error('realloc lost the contents')
          fresh(grown, h)
        }
      }
    }
    for (const e of held) {
      if (!e.stamped || !blockLive[e.block]) continue
      if (e.view[0] !== (e.block & 0xff)) throw new Error(`block ${e.block} was overwritten`)
      handles[e.handle]!.free(e.view)
      blockLive[e.block] = false
    }
    handles[1]!.delete()
    const check = a.check()
    a.flush()
    const allocated = a.stats().allocated
    a.delete()
    if (!check || allocated !== 0) throw new Error(`check ${check}, ${allocated} bytes left allocated`)
  }
  fc.assert(fc.property(fc.array(op, { maxLength: 300, size: 'max' }), run), { numRuns: 100 })
  t.pass()
})
