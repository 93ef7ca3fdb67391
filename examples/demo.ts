/**
 * The vmem demo: libvmem's manual-page example in TypeScript, grown into a
 * small off-heap record store.
 *
 *   npm run demo [-- <dir> [<megabytes>]]
 *
 * It makes a pool in the OS temp dir (or <dir>: try /dev/shm for tmpfs, or a
 * pmem mount), stores a few hundred MB of records in it with a progress line,
 * reads them all back and checks them, then prints the pool's statistics.
 */
import { tmpdir } from 'node:os'

import { MIN_POOL, Pool, VmemError } from '../index.js'

const dir = process.argv[2] ?? tmpdir()
const megabytes = Number(process.argv[3] ?? 300)
const MiB = 1024 * 1024

// --- The manual page's example -------------------------------------------
{
  // Create a minimum size pool of memory.
  using pool = Pool.create(dir, MIN_POOL)
  const ptr = pool.strdup('hello, world')
  console.log(`libvmem example: "${Buffer.from(ptr.subarray(0, -1)).toString()}" lives in a pool in ${dir}`)
  // Give the memory back.
  pool.free(ptr)
} // `using` deletes the pool here.

// --- An off-heap record store ---------------------------------------------

/** Records of varying size, keyed by number, all in one pool. */
class RecordStore {
  readonly #records = new Map<number, Uint8Array>()

  constructor(readonly pool: Pool) {}

  /** Stores `size` bytes for `key`, derived from the key so they can be checked. */
  put(key: number, size: number): void {
    const record = this.pool.malloc(size)
    for (let i = 0; i < size; i += 4096) record[i] = (key + i) & 0xff
    record[size - 1] = key & 0xff
    this.#records.set(key, record)
  }

  /** Whether the record for `key` reads back as written. */
  check(key: number): boolean {
    const record = this.#records.get(key)
    if (record === undefined) return false
    for (let i = 0; i < record.length; i += 4096) if (record[i] !== ((key + i) & 0xff)) return false
    return record[record.length - 1] === (key & 0xff)
  }

  get size(): number {
    return this.#records.size
  }
}

const poolSize = Math.max(MIN_POOL, Math.ceil(megabytes * 1.1) * MiB)
let pool: Pool
try {
  pool = Pool.create(dir, poolSize)
} catch (err) {
  if (err instanceof VmemError) {
    console.error(`cannot create a ${poolSize / MiB} MiB pool in ${dir}: ${err.code}: ${err.message}`)
    process.exit(1)
  }
  throw err
}

const store = new RecordStore(pool)
const heapBefore = process.memoryUsage().heapUsed
const target = megabytes * MiB
const started = performance.now()
let stored = 0
for (let key = 0; stored < target; key++) {
  const size = 16 * 1024 + ((key * 7919) % (240 * 1024))
  store.put(key, size)
  stored += size
  if (key % 256 === 0 || stored >= target) {
    const percent = Math.min(100, (100 * stored) / target).toFixed(0)
    process.stdout.write(`\rfilling: ${(stored / MiB).toFixed(0)} / ${megabytes} MiB (${percent} %)   `)
  }
}
const fillSeconds = (performance.now() - started) / 1000
process.stdout.write('\n')

let good = 0
for (let key = 0; key < store.size; key++) if (store.check(key)) good++
const heapGrowth = process.memoryUsage().heapUsed - heapBefore

console.log(`stored ${store.size} records, ${(stored / MiB).toFixed(0)} MiB, in ${fillSeconds.toFixed(2)} s`)
console.log(`read back: ${good} / ${store.size} records intact`)
console.log(
  `V8 heap changed by ${(heapGrowth / MiB).toFixed(1)} MiB while storing ${(stored / MiB).toFixed(0)} MiB of records`,
)
const stats = pool.stats()
console.log('pool stats:', {
  size: `${(stats.size / MiB).toFixed(0)} MiB`,
  allocated: `${(stats.allocated / MiB).toFixed(1)} MiB`,
  active: `${(stats.active / MiB).toFixed(1)} MiB`,
  mapped: `${(stats.mapped / MiB).toFixed(1)} MiB`,
  nmalloc: stats.nmalloc,
})
console.log(`pool consistent: ${pool.check()}`)
pool.delete()
if (good !== store.size) process.exit(1)
