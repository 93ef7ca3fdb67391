import test from 'ava'
import { join } from 'node:path'
import { MessageChannel, Worker } from 'node:worker_threads'

import { MIN_POOL, Pool, VmemError, type BlockRef } from '../index.js'

const SHM = '/dev/shm'
const einval = { instanceOf: VmemError, code: 'EINVAL' }

test('ref describes a live block; view gives it back, once per block', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  const block = pool.malloc(100).fill(7)
  const ref = pool.ref(block)
  t.deepEqual(Object.keys(ref).sort(), ['generation', 'length', 'offset'])
  t.is(ref.offset, block.byteOffset)
  t.is(ref.length, 100)
  t.deepEqual(pool.ref(block), ref, 'the same generation while the block lives')
  t.deepEqual(structuredClone(ref), ref)
  // This handle already holds the block: view(ref) is that same view.
  t.is(pool.view(structuredClone(ref)), block)
  t.is(pool.mallocUsableSize(block), 112)
  pool.free(block)
  t.throws(() => pool.free(block), einval)
  t.throws(() => pool.view(ref), { ...einval, message: /not live/ })
})

test('a second handle frees a block once; the first handle then gets EINVAL', (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  const other = Pool.attach(pool.share())
  const block = pool.malloc(64).fill(1)
  const ref = pool.ref(block)
  const there = other.view(ref)
  t.not(there, block)
  t.deepEqual([...there], [...block])
  t.is(other.mallocUsableSize(there), 64)
  other.free(there)
  t.throws(() => other.free(there), einval)
  t.throws(() => pool.free(block), { ...einval, message: /not live/ })
  t.throws(() => pool.mallocUsableSize(block), einval)
  t.throws(() => pool.realloc(block, 10), einval)
  t.throws(() => other.view(ref), einval)
  other.delete()
  pool.flush()
  t.is(pool.stats().allocated, 0)
  pool.delete()
})

test('view(ref) asks the core each time: a block another handle freed is gone here too', (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  const other = Pool.attach(pool.share())
  const block = pool.malloc(32)
  const ref = pool.ref(block)
  t.is(pool.view(ref), block)
  other.free(other.view(ref))
  // This handle still holds its view of the block, but the block is gone.
  t.throws(() => pool.view(ref), { ...einval, message: /not live/ })
  t.throws(() => pool.free(block), einval)
  other.delete()
  pool.flush()
  t.is(pool.stats().allocated, 0)
  pool.delete()
})

test('a stale view whose offset was reused never frees the new owner', (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  const other = Pool.attach(pool.share())
  const block = pool.malloc(64)
  const ref = pool.ref(block)
  other.free(other.view(ref))
  // The other handle gets the offset again, and shares its new block.
  let reborn = other.malloc(64)
  const kept: Uint8Array[] = []
  while (reborn.byteOffset !== ref.offset) {
    kept.push(reborn)
    reborn = other.malloc(64)
  }
  const rebornRef = other.ref(reborn.fill(9))
  t.is(rebornRef.offset, ref.offset)
  t.not(rebornRef.generation, ref.generation)
  t.throws(() => pool.free(block), einval)
  t.throws(() => pool.view(ref), einval)
  t.true(reborn.every((byte) => byte === 9))
  other.free(reborn)
  for (const view of kept) other.free(view)
  other.delete()
  pool.delete()
})

test('realloc of a block known by reference moves it and ends the reference', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  const block = pool.malloc(16).fill(4)
  const ref = pool.ref(block)
  const bigger = pool.realloc(block, 5000) as Uint8Array
  t.deepEqual([...bigger.subarray(0, 16)], Array(16).fill(4))
  t.throws(() => pool.view(ref), einval)
  const again = pool.ref(bigger)
  t.is(pool.realloc(bigger, 0), null)
  t.throws(() => pool.view(again), einval)
})

test('odd refs throw clear errors and never crash', (t) => {
  using pool = Pool.create(SHM, MIN_POOL)
  const block = pool.malloc(64)
  const ref = pool.ref(block)
  for (const odd of [null, undefined, 3, 'ref']) {
    t.throws(() => pool.view(odd as unknown as BlockRef), {
      instanceOf: TypeError,
      code: 'ERR_INVALID_ARG_TYPE',
    })
  }
  const forged: unknown[] = [
    {},
    { offset: ref.offset, length: 64 },
    { ...ref, generation: -1 },
    { ...ref, offset: 2 ** 60 },
    { ...ref, length: '64' },
    Object.create(ref),
    Object.defineProperty({ offset: ref.offset, length: 64 }, 'generation', { get: () => ref.generation }),
    new Proxy(ref, {
      getOwnPropertyDescriptor: () => {
        throw new Error('trap')
      },
    }),
  ]
  for (const odd of forged)
    t.throws(() => pool.view(odd as BlockRef), { ...einval, message: /not a block reference/ })
  for (const wrong of [
    { ...ref, generation: ref.generation + 1 },
    { ...ref, offset: ref.offset + 8 },
    { ...ref, offset: pool.size + 4096 },
    { ...ref, length: 1 << 20 },
  ]) {
    t.throws(() => pool.view(wrong), einval)
  }
  t.throws(() => pool.ref(new Uint8Array(8)), einval)
  pool.free(block)
  pool.delete()
  t.throws(() => pool.view(ref), { ...einval, message: 'the pool was deleted' })
  t.throws(() => pool.ref(block), { ...einval, message: 'the pool was deleted' })
})

async function ring(
  workers: number,
  operations: number,
): Promise<{ ok: boolean; sent: number; received: number }[]> {
  // Room for the blocks in flight: a worker that falls behind leaves the
  // others' refs queued (each ~1.5 KiB, 30% of the operations), and each
  // handle keeps up to 1/32 of the pool for reuse, which other threads
  // cannot take back.
  const pool = Pool.create(SHM, 256 * 1024 * 1024)
  const token = pool.share()
  const channels = Array.from({ length: workers }, () => new MessageChannel())
  const reports = await Promise.all(
    channels.map((channel, id) => {
      const previous = (channels[(id + workers - 1) % workers] as MessageChannel).port2
      return new Promise<{ ok: boolean; sent: number; received: number; errors: string[] }>(
        (resolve, reject) => {
          const worker = new Worker(join(__dirname, 'fixtures', 'exchange-worker.cjs'), {
            workerData: { token, id, operations, next: channel.port1, previous },
            transferList: [channel.port1, previous],
          })
          let report: { ok: boolean; sent: number; received: number; errors: string[] } | undefined
          worker.once('message', (message) => (report = message))
          worker.once('error', reject)
          worker.once('exit', () =>
            report === undefined ? reject(new Error(`worker ${id}: no report`)) : resolve(report),
          )
        },
      )
    }),
  )
  const check = pool.check()
  pool.flush()
  const { allocated } = pool.stats()
  pool.delete()
  return reports.map((report) => ({ ...report, ok: report.ok && check && allocated === 0 }))
}

test('two workers hand blocks to each other by ref and free them', async (t) => {
  const reports = await ring(2, 5000)
  for (const report of reports) t.true(report.ok, JSON.stringify(report))
  t.is(reports[0]?.sent, reports[1]?.received)
  t.is(reports[1]?.sent, reports[0]?.received)
  t.true((reports[0]?.sent ?? 0) > 500)
})

test('stress: 4 workers x 10^5 operations end with check() true and nothing allocated', async (t) => {
  const reports = await ring(4, 100_000)
  for (const report of reports) t.true(report.ok, JSON.stringify(report))
  t.true(reports.every((report) => report.received > 10_000))
})

test('across threads: a stale view whose offset another thread reused never frees that block', async (t) => {
  const pool = Pool.create(SHM, MIN_POOL)
  const block = pool.malloc(64).fill(1)
  const ref = pool.ref(block)
  // The worker frees the block, allocates until it gets its offset again,
  // fills that new block and sends its ref back.
  const worker = new Worker(join(__dirname, 'fixtures', 'reuse-worker.cjs'), {
    workerData: { token: pool.share(), ref },
  })
  const replies: unknown[] = []
  const next = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
  const rebornRef = (await next()) as BlockRef
  t.is(rebornRef.offset, ref.offset)
  t.not(rebornRef.generation, ref.generation)
  // The old view and ref name the old block only: refused, the new one intact.
  t.throws(() => pool.free(block), { ...einval, message: /not live/ })
  t.throws(() => pool.view(ref), einval)
  t.throws(() => pool.realloc(block, 8), einval)
  t.deepEqual([...pool.view(rebornRef)], Array(64).fill(9))
  // Listening for the exit before the last message: the worker may exit
  // right after posting it, and a listener added later would wait forever.
  const exited = new Promise((resolve) => worker.once('exit', resolve))
  worker.postMessage('go')
  replies.push(await next())
  t.deepEqual(replies, ['EINVAL'])
  await exited
  t.true(pool.check())
  pool.flush()
  t.is(pool.stats().allocated, 0)
  pool.delete()
})
