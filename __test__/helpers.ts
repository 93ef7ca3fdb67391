import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** 64 MiB, the pool size most tests use. */
export const POOL_64M = 64 * 1024 * 1024

export const isRoot = (): boolean => process.getuid?.() === 0

/** A fresh directory on the ordinary (disk-backed) temp file system. */
export function tempDir(): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), 'vmem-test-'))
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) }
}

/** A tmpfs of `size` (e.g. '20m') mounted by the test itself; needs root. */
export function mountTmpfs(size: string): { path: string; [Symbol.dispose](): void } {
  const dir = tempDir()
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir.path])
  return {
    path: dir.path,
    [Symbol.dispose]: () => {
      execFileSync('umount', ['-l', dir.path])
      dir[Symbol.dispose]()
    },
  }
}

/** The major version of the running Node.js. */
export const nodeMajor = Number(process.versions.node.split('.')[0])
