// Batches with many live blocks, from JavaScript: K blocks of 8–512 B (the
// sizes of the small batch), each written, then freed in shuffled order; vmem
// views against Buffer.allocUnsafe (never freed: the garbage collector's),
// alternating, three rounds after one that warms the JIT up. Prints
// nanoseconds per block for each K. @thi.ng/malloc is left out: its frees
// take time in proportion to its live blocks (41 µs per block at 10 000).
//
// usage: node bench/js-live.mjs [K...]       (default 1000 3000 10000 30000)
import { tmpdir } from 'node:os'
import { Pool } from '../index.mjs'
import { batches } from './js-workload.mjs'

const dir = process.env.BENCH_DIR ?? (process.platform === 'linux' ? '/dev/shm' : tmpdir())
const pool = Pool.create(dir, 256 * 1024 * 1024)
const contenders = {
  vmem: { malloc: (size) => pool.malloc(size), free: (view) => pool.free(view) },
  buffer: { malloc: (size) => Buffer.allocUnsafe(size), free: () => {} },
}

const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [1000, 3000, 10000, 30000]
for (const live of sizes) {
  const samples = { vmem: [], buffer: [] }
  for (let round = 0; round < 4; round++) {
    for (const [name, contender] of Object.entries(contenders)) {
      const ns = batches(contender, Math.max(2, Math.floor(200_000 / live)), live)
      if (round > 0) samples[name].push(ns.toFixed(1))
    }
  }
  console.log(
    `${live} live: vmem ${samples.vmem.join(' ')} | Buffer.allocUnsafe ${samples.buffer.join(' ')} ns per block`,
  )
}
pool.delete()
