import test from 'ava'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import vmem, {
  MIN_POOL,
  Pool,
  VmemError,
  checkVersion,
  errormsg,
  setFuncs,
  usableSizeFor,
} from '../index.mjs'

test('ESM import gives the whole API, named and default', (t) => {
  t.is(typeof Pool.create, 'function')
  t.is(typeof setFuncs, 'function')
  t.is(typeof errormsg, 'function')
  t.is(checkVersion(1, 1), null)
  t.is(usableSizeFor(100), 112)
  t.is(vmem.Pool, Pool)
  const pool = Pool.create('/dev/shm', MIN_POOL)
  t.is(pool.malloc(5).length, 5)
  pool.delete()
  t.throws(() => Pool.create('/dev/shm', 1), { instanceOf: VmemError })
})

test('every export of the CommonJS module is a named ESM export', (t) => {
  // In a plain Node.js, not under the test runner's TypeScript loader, which
  // turns ESM imports into require calls.
  const root = fileURLToPath(new URL('..', import.meta.url))
  const missing = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module'
       const named = await import(${JSON.stringify(pathToFileURL(join(root, 'index.mjs')).href)})
       const keys = Object.keys(createRequire(${JSON.stringify(join(root, 'x.js'))})('./index.js'))
       if (!keys.includes('Pool')) throw new Error('no CommonJS exports')
       console.log(JSON.stringify(keys.filter((key) => !(key in named))))`,
    ],
    { encoding: 'utf8' },
  )
  t.deepEqual(JSON.parse(missing), [])
})

test('the package name resolves to the ESM entry', async (t) => {
  const byName = await import('vmem')
  t.is(byName.Pool, Pool)
})
