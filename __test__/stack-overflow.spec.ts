// A call made with the stack nearly used up throws a RangeError wherever the
// stack runs out: between an allocation's native call and its view, between
// a free's end of the view and its native call, between a pool's native
// creation and its Pool. Each operation runs at every depth near the limit;
// afterwards no block is stranded, no live view covers a freed block, no two
// live views overlap, and no pool is left open.
import { readdirSync } from 'node:fs'

import test, { type ExecutionContext } from 'ava'

import { MIN_POOL, Pool, VmemError, type PoolView } from '../index.js'
import { runIsolated } from './isolated.js'

const SHM = '/dev/shm'
const POOL = 64 << 20
/** Descents to the stack's limit per test: each meets the limit at a different point of the operation. */
const ROUNDS = 64

/** The live views an operation left, by the block each covers. */
type Held = PoolView[]

/**
 * Runs `step` once at each stack depth from the deepest reachable back up,
 * `rounds` times: a RangeError (the stack ran out) is counted, anything else
 * fails the test. The views a step puts in `held` stay there only if it
 * overflowed. With `completions`, a round stops once `step` has completed
 * that many times (a slow step need not run at every depth). Returns how
 * many steps overflowed.
 */
function atEveryDepth(rounds: number, held: Held, step: () => void, completions = Infinity): number {
  let overflows = 0
  let completed = 0
  const descend = (): void => {
    try {
      descend()
    } catch (error) {
      if (!(error instanceof RangeError)) throw error
    }
    if (completed >= completions) return
    const before = held.length
    try {
      step()
      held.length = before
      completed++
    } catch (error) {
      if (!(error instanceof RangeError)) throw error
      overflows++
    }
  }
  // Each round starts a few words deeper than the last, so that the limit
  // falls at a different point of the operation: a frame's size is fixed,
  // and without this the same few points would overflow every round.
  const descendPadded = (..._padding: number[]): void => descend()
  for (let round = 0; round < rounds; round++) {
    completed = 0
    descendPadded(...new Array<number>(round % 64).fill(0))
  }
  return overflows
}

/** Whether `view` is a live allocation of `pool` (EINVAL: it ended). */
function isLive(pool: Pool, view: PoolView): boolean {
  try {
    pool.mallocUsableSize(view)
    return true
  } catch (error) {
    if (error instanceof VmemError && error.code === 'EINVAL') return false
    throw error
  }
}

/**
 * Checks what an overflowing run left: the live views in `held` cover
 * disjoint blocks, and once they are freed the pool holds nothing.
 */
function assertNothingLost(t: ExecutionContext, pool: Pool, held: Held): void {
  const live = [...new Set(held)].filter((view) => isLive(pool, view))
  const spans = live
    .map((view) => [view.byteOffset, view.byteOffset + view.byteLength])
    .sort((a, b) => a[0]! - b[0]!)
  for (let i = 1; i < spans.length; i++) {
    t.true(spans[i]![0]! >= spans[i - 1]![1]!, `live views overlap at offset ${spans[i]![0]}`)
  }
  for (const view of live) pool.free(view)
  pool.flush()
  t.is(pool.stats().allocated, 0, 'bytes stranded by a stack overflow')
  t.true(pool.check())
}

const allocations: Array<[string, (pool: Pool) => PoolView]> = [
  ['malloc', (pool) => pool.malloc(64)],
  ['malloc 4 KiB', (pool) => pool.malloc(4096)],
  ['calloc', (pool) => pool.calloc(8, 8)],
  ['alignedAlloc', (pool) => pool.alignedAlloc(256, 100)],
  ['allocBuffer', (pool) => pool.allocBuffer(48)],
  ['allocArray', (pool) => pool.allocArray(Float64Array, 6)],
  ['strdup', (pool) => pool.strdup('stack')],
  ['wcsdup', (pool) => pool.wcsdup('stack')],
]

for (const [name, allocate] of allocations) {
  test(`${name} and free at the stack's limit strand nothing`, (t) => {
    using pool = Pool.create(SHM, POOL)
    const held: Held = []
    const overflows = atEveryDepth(ROUNDS, held, () => {
      const view = allocate(pool)
      held.push(view)
      pool.free(view)
    })
    t.true(overflows > 0, 'the stack never ran out inside the operation')
    assertNothingLost(t, pool, held)
  })
}

test("realloc at the stack's limit leaves either the old view or the new one, never a freed block", (t) => {
  using pool = Pool.create(SHM, POOL)
  const held: Held = []
  let current: PoolView = pool.malloc(64)
  held.push(current)
  const overflows = atEveryDepth(ROUNDS, held, () => {
    if (!isLive(pool, current)) {
      current = pool.malloc(64)
      held.push(current)
    }
    // Never null: the size is not 0.
    current = pool.realloc(current, current.byteLength === 64 ? 8192 : 64)!
    held.push(current)
  })
  t.true(overflows > 0)
  held.push(current)
  assertNothingLost(t, pool, held)
})

test("ref, view and free of shared blocks at the stack's limit strand nothing and list nothing stale", (t) => {
  using pool = Pool.create(SHM, POOL)
  const held: Held = []
  // Generations only grow: a new block listed under an older one than the
  // newest seen is a listing a cut-short ref left behind, through which a
  // stale ref would reach the new block.
  let newest = -1
  let stale = 0
  const overflows = atEveryDepth(ROUNDS, held, () => {
    const view = pool.malloc(64)
    held.push(view)
    const ref = pool.ref(view)
    if (ref.generation <= newest) stale++
    newest = Math.max(newest, ref.generation)
    const again = pool.view(ref)
    held.push(again)
    pool.free(again)
  })
  t.true(overflows > 0)
  // The blocks the cut-short steps left come back first (freed last) to
  // allocations of their size; listed afresh, each gets a new generation.
  const live = [...new Set(held)].filter((view) => isLive(pool, view))
  for (const view of live) pool.free(view)
  const again = live.map(() => pool.malloc(64))
  for (const view of again) {
    const ref = pool.ref(view)
    if (ref.generation <= newest) stale++
    newest = Math.max(newest, ref.generation)
  }
  t.is(stale, 0, 'a block was listed under a stale generation')
  assertNothingLost(t, pool, again)
})

test("realloc of a shared block at the stack's limit strands nothing", (t) => {
  using pool = Pool.create(SHM, POOL)
  const held: Held = []
  const overflows = atEveryDepth(ROUNDS, held, () => {
    const view = pool.malloc(64)
    held.push(view)
    pool.ref(view)
    const moved = pool.realloc(view, 8192)!
    held.push(moved)
    pool.free(moved)
  })
  t.true(overflows > 0)
  assertNothingLost(t, pool, held)
})

/** This process's open file descriptors: a pool file each, while its pool lives. */
const openFiles = (): number => readdirSync('/proc/self/fd').length

/**
 * {@link atEveryDepth} from the deepest depth up to a few past the first
 * where `step` completes: a pool file each is slow.
 */
const nearTheLimit = (rounds: number, step: () => void): number => atEveryDepth(rounds, [], step, 4)

test("create and delete at the stack's limit leave no pool behind", (t) => {
  const filesBefore = openFiles()
  // Stored, not pushed: a push is a call, which could lose the pool here.
  const made: Pool[] = []
  const overflows = nearTheLimit(ROUNDS, () => {
    const pool = Pool.create(SHM, MIN_POOL)
    made[made.length] = pool
    pool.delete()
  })
  t.true(overflows > 0)
  // A delete cut short leaves its pool whole, to delete again.
  for (const pool of made) pool.delete()
  t.is(openFiles(), filesBefore, 'a pool file stayed open')
})

test("attach at the stack's limit leaves no handle behind", (t) => {
  const filesBefore = openFiles()
  const pool = Pool.create(SHM, MIN_POOL)
  const token = pool.share()
  const attached: Pool[] = []
  const overflows = nearTheLimit(ROUNDS, () => {
    const handle = Pool.attach(token)
    attached[attached.length] = handle
    handle.delete()
  })
  t.true(overflows > 0)
  for (const handle of attached) handle.delete()
  // The last handle's delete closes the pool's file.
  pool.delete()
  t.is(openFiles(), filesBefore, 'a handle kept the pool open')
})

test("createInRegion at the stack's limit leaves the region free for the next pool", (t) => {
  const region = new ArrayBuffer(MIN_POOL + (64 << 10))
  let current: Pool | null = null
  // A pool left in the region refuses the next one with EBUSY (which fails
  // the test): each step first deletes the pool a cut-short step left.
  const overflows = nearTheLimit(ROUNDS, () => {
    current?.delete()
    current = Pool.createInRegion(region)
    current.delete()
  })
  t.true(overflows > 0)
  ;(current as Pool | null)?.delete()
  const last = Pool.createInRegion(region)
  t.true(last.check())
  last.delete()
})

test("create at the stack's limit leaves no pool behind with a setter on Array.prototype", (t) => {
  // The list of handles left without a Pool is an array: a setter a user put
  // on Array.prototype ran instead of the store that lists one, and the pool
  // stayed open for good. In a child, as the setter is process-wide.
  const run = runIsolated<{ overflows: number; setterCalls: number; leftOpen: number }>(`
    const { readdirSync } = require('node:fs')
    const openFiles = () => readdirSync('/proc/self/fd').length
    const before = openFiles()
    const made = new Array(100000).fill(null) // no holes: these stores run no setter
    let count = 0
    let setterCalls = 0
    let overflows = 0
    Object.defineProperty(Array.prototype, '0', { configurable: true, set() { setterCalls++ }, get() { return undefined } })
    for (let round = 0; round < 64; round++) {
      let completed = 0
      const descend = () => {
        try { descend() } catch (error) { if (!(error instanceof RangeError)) throw error }
        if (completed > 3) return
        try {
          const pool = Pool.create('/dev/shm', MIN_POOL)
          made[count++] = pool
          pool.delete()
          completed++
        } catch (error) {
          if (!(error instanceof RangeError)) throw error
          overflows++
        }
      }
      const padded = (...padding) => descend()
      padded(...new Array(round).fill(0))
    }
    delete Array.prototype[0]
    for (let i = 0; i < count; i++) made[i].delete()
    report({ overflows, setterCalls, leftOpen: openFiles() - before })
  `)
  t.truthy(run.result, run.ending)
  t.true(run.result!.overflows > 0)
  t.is(run.result!.leftOpen, 0, 'a pool file stayed open')
})
