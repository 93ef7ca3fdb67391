// malloc + write + free in JavaScript: vmem's pool views (pool.malloc(n),
// pool.free(view)) against @thi.ng/malloc (a pure-JS allocator over one
// ArrayBuffer: mallocAs('u8', n), free) and Buffer.allocUnsafe(n) (never
// freed: the garbage collector's), for single pairs of 64 B, 4 KiB and 1 MiB
// and for batches of 1000 random sizes of 8–512 B freed in shuffled order.
// Alternating rounds (each starts with another contender; the first round
// warms the JIT up and is dropped) give every round's figure, for medians and
// spreads. Then the V8 heap growth while 2 GiB of pool memory is allocated in
// 64 KiB pieces. Prints JSON for report.mjs.
// Usage: node --expose-gc bench/js-bench.mjs [rounds] [dir]
import { MemPool } from '@thi.ng/malloc'
import { Pool } from '../index.mjs'

const rounds = Number(process.argv[2] ?? 5)
const dir = process.argv[3] ?? '/dev/shm'

/** Nanoseconds per call of `body` over `iterations` calls. */
function time(iterations, body) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) body(i)
  return Number(process.hrtime.bigint() - start) / iterations
}

const pool = Pool.create(dir, 256 * 1024 * 1024)
// Room for a 1 MiB block and a whole batch (at most 1000 × 512 B).
const thing = new MemPool({ size: 64 * 1024 * 1024 })
const contenders = {
  vmem: {
    malloc: (size) => pool.malloc(size),
    free: (view) => pool.free(view),
  },
  thing: {
    malloc: (size) => thing.mallocAs('u8', size),
    free: (view) => thing.free(view),
  },
  buffer: {
    malloc: (size) => Buffer.allocUnsafe(size),
    free: () => {},
  },
}
const names = Object.keys(contenders)

function pairs(contender, size, iterations) {
  const { malloc, free } = contender
  return time(iterations, (i) => {
    const view = malloc(size)
    view[0] = i
    free(view)
  })
}

// One batch: 1000 sizes of 8–512 B from a xorshift generator, each block
// written, then freed in an order shuffled by the same generator (the same
// work for every contender). Nanoseconds per block.
const BATCH = 1000
function batches(contender, count) {
  const { malloc, free } = contender
  const views = new Array(BATCH)
  let seed = 2463534242
  const next = () => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return seed >>> 0
  }
  return (
    time(count, () => {
      for (let i = 0; i < BATCH; i++) {
        const view = malloc(8 + (next() % 505))
        if (view === undefined) throw new Error('out of memory in a batch')
        view[0] = i
        views[i] = view
      }
      for (let i = BATCH - 1; i > 0; i--) {
        const j = next() % (i + 1)
        const swap = views[i]
        views[i] = views[j]
        views[j] = swap
      }
      for (let i = 0; i < BATCH; i++) free(views[i])
    }) / BATCH
  )
}

const results = { node: process.version, rows: [] }
const figures = [
  ...[64, 4096, 1 << 20].map((size) => ({
    key: `pair_${size}`,
    size,
    run: (contender) => pairs(contender, size, size >= 1 << 20 ? 20_000 : 400_000),
  })),
  { key: 'batch_small', run: (contender) => batches(contender, 200) },
]
for (const figure of figures) {
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < rounds + 1; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]
      const ns = figure.run(contenders[name])
      // The first round warms the JIT up.
      if (round > 0) samples[name].push(ns)
    }
  }
  results.rows.push({ key: figure.key, size: figure.size, samples })
}
pool.delete()

// V8 heap growth for 2 GiB of pool memory in 64 KiB pieces.
const big = Pool.create(dir, 2 * 1024 * 1024 * 1024 + 64 * 1024 * 1024)
globalThis.gc?.()
const before = process.memoryUsage().heapUsed
const views = []
for (let i = 0; i < 32 * 1024; i++) views.push(big.malloc(64 * 1024))
globalThis.gc?.()
results.heapGrowthBytes = process.memoryUsage().heapUsed - before
results.heapPieces = views.length
big.delete()
console.log(JSON.stringify(results))
