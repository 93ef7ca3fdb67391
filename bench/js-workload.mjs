// The JavaScript benchmark's workload, one definition for bench/js-bench.mjs
// (`npm run bench`) and bench/ab-js.mjs (two builds side by side): malloc +
// write + free for single pairs of 64 B, 4 KiB and 1 MiB and for batches of
// 1000 random sizes of 8–512 B freed in shuffled order, run by contenders
// `{ malloc(size), free(view) }` in alternating rounds.
import { MemPool } from '@thi.ng/malloc'

/** Nanoseconds per call of `body` over `iterations` calls. */
function time(iterations, body) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) body(i)
  return Number(process.hrtime.bigint() - start) / iterations
}

function pairs(contender, size, iterations) {
  const { malloc, free } = contender
  return time(iterations, (i) => {
    const view = malloc(size)
    view[0] = i
    free(view)
  })
}

// Batches of `live` sizes of 8–512 B (1000 unless told) from a xorshift
// generator, each block written, then freed in an order shuffled by the same
// generator (the same work for every contender). Nanoseconds per block.
const BATCH = 1000
export function batches(contender, count, live = BATCH) {
  const { malloc, free } = contender
  const views = new Array(live)
  let seed = 2463534242
  const next = () => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return seed >>> 0
  }
  return (
    time(count, () => {
      for (let i = 0; i < live; i++) {
        const view = malloc(8 + (next() % 505))
        if (view === undefined) throw new Error('out of memory in a batch')
        view[0] = i
        views[i] = view
      }
      for (let i = live - 1; i > 0; i--) {
        const j = next() % (i + 1)
        const swap = views[i]
        views[i] = views[j]
        views[j] = swap
      }
      for (let i = 0; i < live; i++) free(views[i])
    }) / live
  )
}

/** The rows: a key, the block size of a pair row, and how to run it once. */
export const figures = [
  ...[64, 4096, 1 << 20].map((size) => ({
    key: `pair_${size}`,
    size,
    run: (contender) => pairs(contender, size, size >= 1 << 20 ? 20_000 : 400_000),
  })),
  { key: 'batch_small', run: (contender) => batches(contender, 200) },
]

/**
 * The peers vmem is measured against: @thi.ng/malloc (a pure-JS allocator
 * over one ArrayBuffer: room for a 1 MiB block and a whole batch) and
 * Buffer.allocUnsafe (never freed: the garbage collector's). Each contender
 * has functions of its own, so no call site is shared between them.
 */
export function peers() {
  const thing = new MemPool({ size: 64 * 1024 * 1024 })
  return {
    thing: {
      malloc: (size) => thing.mallocAs('u8', size),
      free: (view) => thing.free(view),
    },
    buffer: {
      malloc: (size) => Buffer.allocUnsafe(size),
      free: () => {},
    },
  }
}

/**
 * Every round's figure of each contender for `figure`, by name: `rounds`
 * rounds, each starting with another contender, after one that warms the
 * JIT up and is dropped.
 */
export function sample(figure, contenders, rounds) {
  const names = Object.keys(contenders)
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < rounds + 1; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]
      const ns = figure.run(contenders[name])
      if (round > 0) samples[name].push(ns)
    }
  }
  return samples
}
