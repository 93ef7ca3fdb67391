// pool.malloc(n) + write + pool.free(view) against Buffer.allocUnsafe(n) +
// write, in alternating rounds (medians), and V8 heap growth while 2 GiB of
// pool memory is allocated in 64 KiB pieces. Prints JSON for report.mjs.
// Usage: node --expose-gc bench/js-bench.mjs [rounds] [dir]
import { Pool } from '../index.mjs'

const rounds = Number(process.argv[2] ?? 3)
const dir = process.argv[3] ?? '/dev/shm'
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function time(iterations, body) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) body(i)
  return Number(process.hrtime.bigint() - start) / iterations
}

const pool = Pool.create(dir, 256 * 1024 * 1024)
const results = { node: process.version, pairs: [] }
for (const size of [64, 4096, 1 << 20]) {
  const iterations = size >= 1 << 20 ? 20_000 : 400_000
  const ours = []
  const buffers = []
  for (let round = 0; round < rounds + 1; round++) {
    const a = time(iterations, (i) => {
      const view = pool.malloc(size)
      view[0] = i
      pool.free(view)
    })
    const b = time(iterations, (i) => {
      const buffer = Buffer.allocUnsafe(size)
      buffer[0] = i
    })
    // The first round warms the JIT up.
    if (round > 0) {
      ours.push(a)
      buffers.push(b)
    }
  }
  results.pairs.push({ size, vmemNs: median(ours), bufferNs: median(buffers) })
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
