// Runs a script in a child Node.js process, so that a crash (SIGSEGV, an
// abort) fails one test instead of killing the ava runner.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

/** What a child script reported, and how the child ended. */
export interface Isolated<R> {
  /** The value the script passed to `report`, or undefined if it never did. */
  result: R | undefined
  status: number | null
  signal: NodeJS.Signals | null
  stderr: string
  /** One line for assertion messages: how the child ended, and its stderr. */
  ending: string
}

const indexPath = join(__dirname, '..', 'index.js')

/**
 * Runs `source` in a child process with `--expose-gc`. The script sees
 * `vmem` (the package, loaded from `INDEX`), `Pool`, `MIN_POOL`, `PAGE_SIZE`, and `report(value)`,
 * which hands a JSON value back; it may be an async function body.
 */
export function runIsolated<R>(source: string, timeoutMs = 60_000): Isolated<R> {
  const prelude = `
    const INDEX = ${JSON.stringify(indexPath)}
    const vmem = require(INDEX)
    const { Pool, MIN_POOL, PAGE_SIZE } = vmem
    const report = (value) => process.stdout.write('\\nRESULT ' + JSON.stringify(value) + '\\n')
  `
  const script = `${prelude}\n;(async () => {\n${source}\n})().catch((err) => { console.error(err); process.exit(3) })`
  const child = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  })
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  const result = line === undefined ? undefined : (JSON.parse(line.slice(7)) as R)
  const ending =
    `child ended with status ${child.status} signal ${child.signal}` +
    (child.stderr ? `; stderr: ${child.stderr.slice(0, 2000)}` : '')
  return { result, status: child.status, signal: child.signal, stderr: child.stderr, ending }
}
