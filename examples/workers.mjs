// Workers sharing one pool: each allocates records, fills them, and hands
// them by reference to the next worker in a ring, which checks and frees
// them. Run with `node examples/workers.mjs` after `npm run build`.
import { MessageChannel, Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'

import { Pool } from '../index.mjs'

const WORKERS = 3
const RECORDS = 1000

if (isMainThread) {
  const pool = Pool.create('/dev/shm', 64 * 1024 * 1024)
  const token = pool.share()
  const channels = Array.from({ length: WORKERS }, () => new MessageChannel())
  const reports = await Promise.all(
    channels.map((channel, id) => {
      const previous = channels[(id + WORKERS - 1) % WORKERS].port2
      const worker = new Worker(new URL(import.meta.url), {
        workerData: { token, id, next: channel.port1, previous },
        transferList: [channel.port1, previous],
      })
      return new Promise((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
      })
    }),
  )
  for (const { id, received, checked } of reports)
    console.log(`worker ${id}: ${checked}/${received} records checked`)
  pool.flush()
  console.log(`pool consistent: ${pool.check()}, bytes allocated: ${pool.stats().allocated}`)
  pool.delete()
} else {
  const { token, id, next, previous } = workerData
  const pool = Pool.attach(token)
  let received = 0
  let checked = 0
  previous.on('message', (message) => {
    if (message === 'done') {
      pool.delete()
      previous.close()
      parentPort.postMessage({ id, received, checked })
      return
    }
    const record = pool.view(message)
    received++
    if (record.every((byte) => byte === ((id + WORKERS - 1) % WORKERS) + 1)) checked++
    pool.free(record)
  })
  for (let i = 0; i < RECORDS; i++) {
    const record = pool.malloc(16 + (i % 200)).fill(id + 1)
    next.postMessage(pool.ref(record))
  }
  next.postMessage('done')
  next.close()
}
