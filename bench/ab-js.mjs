// Old against new in one process: the JavaScript benchmark's rows
// (js-workload.mjs) for two builds of the package at once, with @thi.ng/malloc
// and Buffer.allocUnsafe, in alternating rounds. One process sees one
// machine: on a loaded host, per-round ratios between builds hold still where
// separate processes' times do not. Both builds' addons load side by side
// (each its own copy of the library and its own pool).
// Usage: node bench/ab-js.mjs OLD/index.mjs NEW/index.mjs [rounds] [dir] [old-label]
import { figures, peers, sample } from './js-workload.mjs'

const [oldPath, newPath, roundsArg, dirArg, label] = process.argv.slice(2)
const rounds = Number(roundsArg ?? 7)
const dir = dirArg ?? '/dev/shm'
const { Pool: OldPool } = await import(oldPath)
const { Pool: NewPool } = await import(newPath)

const oldPool = OldPool.create(dir, 256 * 1024 * 1024)
const newPool = NewPool.create(dir, 256 * 1024 * 1024)
const contenders = {
  old: { malloc: (size) => oldPool.malloc(size), free: (view) => oldPool.free(view) },
  new: { malloc: (size) => newPool.malloc(size), free: (view) => newPool.free(view) },
  ...peers(),
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]

console.log(`row | ${label ?? 'old'} ns | new ns | new ÷ old | old ÷ best other | new ÷ best other`)
for (const figure of figures) {
  const samples = sample(figure, contenders, rounds)
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
