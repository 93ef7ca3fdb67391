// Model-based random testing from JavaScript (fast-check): random sequences
// of valid calls interleaved with misuses over several pools, against a model
// of the live views. Every live view holds its id's byte; misuses must throw
// and change nothing; views used after free or delete read stale data or have
// length 0, never crash. 100 runs x 1000 operations = 10^5 operations.
import test from 'ava'
import fc from 'fast-check'

import { MIN_POOL, Pool, VmemError, type PoolView } from '../index.js'

type Op =
  | { kind: 'create'; extraMiB: number }
  | { kind: 'malloc' | 'calloc' | 'strdup' | 'wcsdup'; pool: number; size: number }
  | { kind: 'aligned'; pool: number; shift: number; size: number }
  | { kind: 'realloc'; pool: number; pick: number; size: number }
  | {
      kind: 'free' | 'usable' | 'doubleFree' | 'freeSubarray' | 'freeForeign' | 'touchFreed'
      pool: number
      pick: number
    }
  | { kind: 'check' | 'delete' | 'touchDeleted'; pool: number }

const size = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 600 }) },
  { weight: 3, arbitrary: fc.integer({ min: 600, max: 70_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 70_000, max: 1_000_000 }) },
  { weight: 1, arbitrary: fc.constant(2 ** 40) },
)
const pool = fc.nat(3)
const pick = fc.nat()

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('create' as const), extraMiB: fc.nat(8) }) },
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('malloc' as const), pool, size }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('calloc' as const), pool, size }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('strdup' as const), pool, size: fc.nat(200) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wcsdup' as const), pool, size: fc.nat(200) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('aligned' as const),
      pool,
      shift: fc.nat(21),
      size: fc.nat(5000),
    }),
  },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('realloc' as const), pool, pick, size }) },
  { weight: 25, arbitrary: fc.record({ kind: fc.constant('free' as const), pool, pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('usable' as const), pool, pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('doubleFree' as const), pool, pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('freeSubarray' as const), pool, pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('freeForeign' as const), pool, pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('touchFreed' as const), pool, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('check' as const), pool }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pool }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('touchDeleted' as const), pool }) },
)

interface Live {
  view: PoolView
  id: number
}
interface ModelPool {
  pool: Pool
  live: Live[]
  freed: PoolView[]
}

const byteOf = (id: number): number => (id * 37 + 11) & 0xff

/** Whether the view still holds its id's byte: every byte of a small view,
 * every 509th and the last 64 of a large one (to keep 10^5 operations fast). */
function holds(entry: Live): boolean {
  const expected = byteOf(entry.id)
  const bytes = new Uint8Array(entry.view.buffer, entry.view.byteOffset, entry.view.byteLength)
  const step = bytes.length <= 4096 ? 1 : 509
  for (let i = 0; i < bytes.length; i += step) if (bytes[i] !== expected) return false
  for (let i = Math.max(0, bytes.length - 64); i < bytes.length; i++) if (bytes[i] !== expected) return false
  return true
}

function mark(view: PoolView, id: number): Live {
  new Uint8Array(view.buffer, view.byteOffset, view.byteLength).fill(byteOf(id))
  return { view, id }
}

function expectThrow(action: () => unknown, code: string): void {
  try {
    action()
  } catch (err) {
    if ((err as { code?: string }).code === code) return
    throw new Error(`expected ${code}, got ${String(err)}`)
  }
  throw new Error(`expected ${code}, nothing thrown`)
}

function run(ops: Op[]): void {
  const pools: ModelPool[] = []
  const deleted: Array<{ pool: Pool; views: PoolView[] }> = []
  let nextId = 0
  const allocate = (model: ModelPool, make: () => PoolView): void => {
    try {
      model.live.push(mark(make(), nextId++))
    } catch (err) {
      if (!(err instanceof VmemError) || (err.code !== 'ENOMEM' && err.code !== 'EINVAL')) throw err
    }
  }
  try {
    pools.push({ pool: Pool.create('/dev/shm', MIN_POOL + (2 << 20)), live: [], freed: [] })
    for (const op of ops) {
      if (op.kind === 'create') {
        if (pools.length < 3)
          pools.push({ pool: Pool.create('/dev/shm', MIN_POOL + (op.extraMiB << 20)), live: [], freed: [] })
        continue
      }
      if (op.kind === 'touchDeleted') {
        const gone = deleted[op.pool % Math.max(1, deleted.length)]
        if (gone === undefined) continue
        for (const view of gone.views)
          if (view.length !== 0 || view[0] !== undefined) throw new Error('view outlived delete')
        expectThrow(() => gone.pool.malloc(1), 'EINVAL')
        continue
      }
      const model = pools[op.pool % Math.max(1, pools.length)]
      if (model === undefined) continue
      const { pool } = model
      const chosen = (p: number): Live | undefined => model.live[p % Math.max(1, model.live.length)]
      switch (op.kind) {
        case 'malloc':
          allocate(model, () => pool.malloc(op.size))
          break
        case 'calloc':
          allocate(model, () => {
            const view = pool.calloc(1, op.size)
            for (let i = 0; i < view.length; i += 61)
              if (view[i] !== 0) throw new Error('calloc gave non-zero bytes')
            return view
          })
          break
        case 'strdup':
          allocate(model, () => pool.strdup('s'.repeat(op.size)))
          break
        case 'wcsdup':
          allocate(model, () => pool.wcsdup('w'.repeat(op.size)))
          break
        case 'aligned':
          allocate(model, () => {
            const view = pool.alignedAlloc(2 ** op.shift, op.size)
            // The pool starts on a page: offsets align up to the page size.
            if (view.byteOffset % Math.min(2 ** op.shift, 4096) !== 0) throw new Error('misaligned')
            return view
          })
          break
        case 'realloc': {
          const entry = chosen(op.pick)
          if (entry === undefined) break
          if (!holds(entry)) throw new Error(`view ${entry.id} damaged before realloc`)
          // realloc keeps the view's class: sizes in bytes, whole elements.
          if (op.size % entry.view.BYTES_PER_ELEMENT !== 0) {
            expectThrow(() => pool.realloc(entry.view, op.size), 'ERR_OUT_OF_RANGE')
            if (!holds(entry)) throw new Error('refused realloc changed the view')
            break
          }
          try {
            const moved = pool.realloc(entry.view, op.size)
            const index = model.live.indexOf(entry)
            model.freed.push(entry.view)
            if (moved === null) {
              model.live.splice(index, 1)
            } else {
              if (Object.getPrototypeOf(moved) !== Object.getPrototypeOf(entry.view))
                throw new Error('realloc changed the view class')
              const kept = Math.min(entry.view.byteLength, op.size)
              const expected = byteOf(entry.id)
              const bytes = new Uint8Array(moved.buffer, moved.byteOffset, kept)
              if (!bytes.every((byte) => byte === expected)) throw new Error('realloc lost data')
              model.live[index] = mark(moved, nextId++)
            }
          } catch (err) {
            if (!(err instanceof VmemError) || err.code !== 'ENOMEM') throw err
            if (!holds(entry)) throw new Error('failed realloc changed the view')
          }
          break
        }
        case 'free': {
          const entry = chosen(op.pick)
          if (entry === undefined) break
          if (!holds(entry)) throw new Error(`view ${entry.id} damaged`)
          pool.free(entry.view)
          model.live.splice(model.live.indexOf(entry), 1)
          model.freed.push(entry.view)
          break
        }
        case 'usable': {
          const entry = chosen(op.pick)
          if (entry !== undefined && pool.mallocUsableSize(entry.view) < entry.view.byteLength)
            throw new Error('usable size too small')
          break
        }
        case 'doubleFree': {
          const view = model.freed[op.pick % Math.max(1, model.freed.length)]
          if (view !== undefined) expectThrow(() => pool.free(view), 'EINVAL')
          break
        }
        case 'freeSubarray': {
          const entry = chosen(op.pick)
          if (entry !== undefined && entry.view.length > 1)
            expectThrow(() => pool.free(entry.view.subarray(1)), 'EINVAL')
          break
        }
        case 'freeForeign': {
          const other = pools.find((candidate) => candidate !== model)
          const entry = other?.live[op.pick % Math.max(1, other.live.length)]
          if (entry !== undefined) expectThrow(() => pool.free(entry.view), 'EINVAL')
          expectThrow(() => pool.free(new Uint8Array(8)), 'EINVAL')
          break
        }
        case 'touchFreed': {
          // A freed view still reads (stale data) and writes without a crash;
          // it may belong to a newer block now, so only read it.
          const view = model.freed[op.pick % Math.max(1, model.freed.length)]
          if (view !== undefined && view.length > 0) void view[view.length - 1]
          break
        }
        case 'check':
          if (!pool.check()) throw new Error('check failed')
          break
        case 'delete': {
          for (const entry of model.live) if (!holds(entry)) throw new Error(`view ${entry.id} damaged`)
          pools.splice(pools.indexOf(model), 1)
          pool.delete()
          deleted.push({ pool, views: model.live.map((entry) => entry.view).slice(0, 8) })
          break
        }
      }
    }
    for (const model of pools) {
      for (const entry of model.live)
        if (!holds(entry)) throw new Error(`view ${entry.id} damaged at the end`)
      if (!model.pool.check()) throw new Error('check failed at the end')
    }
  } finally {
    for (const model of pools) model.pool.delete()
  }
}

test('random call sequences with misuses match the model (10^5 operations)', (t) => {
  const details = fc.check(fc.property(fc.array(op, { minLength: 1000, maxLength: 1000 }), run), {
    numRuns: Number(process.env.VMEM_MODEL_RUNS ?? 100),
    // Shrinking 1000-operation sequences takes long; the seed reproduces it.
    endOnFailure: true,
  })
  if (details.failed) {
    t.log(`seed ${details.seed}, path ${details.counterexamplePath}`)
    t.fail(String(details.errorInstance))
  }
  t.pass()
})
