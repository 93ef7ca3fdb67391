// Old against new in one process: the JavaScript benchmark's rows (see
// js-bench.mjs) for two builds of the package at once, with @thi.ng/malloc
// and Buffer.allocUnsafe, in alternating rounds. One process sees one
// machine: on a loaded host, per-round ratios between builds hold still where
// separate processes' times do not. Both builds' addons load side by side
// (each its own copy of the library and its own pool).
// Usage: node bench/ab-js.mjs OLD/index.mjs NEW/index.mjs [rounds] [dir] [old-label]
import { MemPool } from '@thi.ng/malloc'

const [oldPath, newPath, roundsArg, dirArg, label] = process.argv.slice(2)
const rounds = Number(roundsArg ?? 7)
const dir = dirArg ?? '/dev/shm'
const { Pool: OldPool } = await import(oldPath)
const { Pool: NewPool } = await import(newPath)

function time(iterations, body) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) body(i)
  return Number(process.hrtime.bigint() - start) / iterations
}

const oldPool = OldPool.create(dir, 256 * 1024 * 1024)
const newPool = NewPool.create(dir, 256 * 1024 * 1024)
const thing = new MemPool({ size: 64 * 1024 * 1024 })
// Distinct functions per contender, as in js-bench.mjs.
const contenders = {
  old: { malloc: (size) => oldPool.malloc(size), free: (view) => oldPool.free(view) },
  new: { malloc: (size) => newPool.malloc(size), free: (view) => newPool.free(view) },
  thing: { malloc: (size) => thing.mallocAs('u8', size), free: (view) => thing.free(view) },
  buffer: { malloc: (size) => Buffer.allocUnsafe(size), free: () => {} },
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

const figures = [
  ...[64, 4096, 1 << 20].map((size) => ({
    key: `pair_${size}`,
    run: (contender) => pairs(contender, size, size >= 1 << 20 ? 20_000 : 400_000),
  })),
  { key: 'batch_small', run: (contender) => batches(contender, 200) },
]
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]

console.log(`row | ${label ?? 'old'} ns | new ns | new ÷ old | old ÷ best other | new ÷ best other`)
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
  // Ratios per round (the same moment of the machine), then their medians.
  const ratio = (a, b) => median(a.map((value, i) => value / b[i]))
  const bestOther = samples.thing.map((value, i) => Math.min(value, samples.buffer[i]))
  console.log(
    [
      figure.key,
      median(samples.old).toFixed(1),
      median(samples.new).toFixed(1),
      ratio(samples.new, samples.old).toFixed(2),
      ratio(samples.old, bestOther).toFixed(2),
      ratio(samples.new, bestOther).toFixed(2),
    ].join(' | '),
  )
}
oldPool.delete()
newPool.delete()
