// malloc + write + free in JavaScript: vmem's pool views (pool.malloc(n),
// pool.free(view)) against @thi.ng/malloc (mallocAs('u8', n), free) and
// Buffer.allocUnsafe(n), the workload of bench/js-workload.mjs. Alternating
// rounds give every round's figure, for medians and spreads. Then the V8
// heap growth while 2 GiB of pool memory is allocated in 64 KiB pieces.
// Prints JSON for report.mjs.
// Usage: node --expose-gc bench/js-bench.mjs [rounds] [dir]
import { Pool } from '../index.mjs'
import { figures, peers, sample } from './js-workload.mjs'

const rounds = Number(process.argv[2] ?? 9)
const dir = process.argv[3] ?? '/dev/shm'

const pool = Pool.create(dir, 256 * 1024 * 1024)
const contenders = {
  vmem: {
    malloc: (size) => pool.malloc(size),
    free: (view) => pool.free(view),
  },
  ...peers(),
}

const results = { node: process.version, rows: [] }
for (const figure of figures) {
  const samples = sample(figure, contenders, rounds)
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
