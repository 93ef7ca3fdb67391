import test from 'ava'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import { Pool } from '../index.js'

test('worker threads each use their own pools in parallel', async (t) => {
  const main = Pool.create('/dev/shm', 32 * 1024 * 1024)
  const mainView = main.malloc(1024).fill(9)
  const results = await Promise.all(
    [0, 1, 2, 3].map(
      (id) =>
        new Promise<{ ok: boolean; id: number }>((resolve, reject) => {
          const worker = new Worker(join(__dirname, 'fixtures', 'pool-worker.cjs'), { workerData: { id } })
          worker.once('message', resolve)
          worker.once('error', reject)
        }),
    ),
  )
  t.deepEqual(
    results.map((r) => r.ok),
    [true, true, true, true],
  )
  t.true(mainView.every((byte) => byte === 9))
  t.true(main.check())
  main.delete()
})

test('a pool view posted to a worker is copied, never shared', async (t) => {
  const pool = Pool.create('/dev/shm', 32 * 1024 * 1024)
  const view = pool.malloc(16).fill(5)
  const echoed = await new Promise<Uint8Array>((resolve, reject) => {
    const worker = new Worker(
      `require('node:worker_threads').parentPort.once('message', (v) => { v.fill(1); require('node:worker_threads').parentPort.postMessage(v) })`,
      { eval: true },
    )
    worker.once('message', (v: Uint8Array) => {
      void worker.terminate()
      resolve(v)
    })
    worker.once('error', reject)
    worker.postMessage(view)
  })
  t.deepEqual([...echoed], Array(16).fill(1))
  t.true(view.every((byte) => byte === 5))
  pool.delete()
})
