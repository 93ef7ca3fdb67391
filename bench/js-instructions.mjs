// The loop bench/js-instructions.sh counts: 100 000 malloc + write + free
// pairs to warm up (V8 optimises the path), then PAIRS more.
// usage: node bench/js-instructions.mjs INDEX.mjs PAIRS SIZE
const [entry, pairsArg, sizeArg] = process.argv.slice(2)
const { Pool } = await import(entry)
const size = Number(sizeArg)
const pool = Pool.create(process.env.BENCH_DIR ?? '/dev/shm', 64 << 20)

function pairs(count) {
  for (let i = 0; i < count; i++) {
    const view = pool.malloc(size)
    view[0] = i
    pool.free(view)
  }
}

pairs(100_000)
pairs(Number(pairsArg))
pool.delete()
