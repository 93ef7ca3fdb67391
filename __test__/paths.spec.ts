// Odd directory paths give the errno a system call would (issue 12, item 5).
import test from 'ava'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

import { MIN_POOL, Pool, VmemError } from '../index.js'

const codeOf = (dir: string): string | undefined => {
  try {
    Pool.create(dir, MIN_POOL).delete()
    return undefined
  } catch (err) {
    return err instanceof VmemError ? err.code : `not a VmemError: ${String(err)}`
  }
}

test('a NUL byte in the directory is EINVAL, wherever it is', (t) => {
  for (const dir of ['/tmp\0x', '\0', '/tmp/\0', `${tmpdir()}\0/../tmp`]) {
    t.is(codeOf(dir), 'EINVAL', JSON.stringify(dir))
  }
})

test('other odd directories fail as the file system says', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vmem-paths-'))
  try {
    const file = join(dir, 'file')
    writeFileSync(file, 'x')
    t.is(codeOf(''), 'ENOENT')
    t.is(codeOf(join(dir, 'missing')), 'ENOENT')
    t.is(codeOf(file), 'ENOTDIR')
    t.is(codeOf(join(file, 'below')), 'ENOTDIR')
    t.is(codeOf(`${dir}/${'a'.repeat(300)}`), 'ENAMETOOLONG')
    t.is(codeOf(`${dir}/${'a/'.repeat(3000)}`), 'ENAMETOOLONG')
    // Valid spellings of a directory work: relative, trailing slashes, dots.
    for (const ok of [
      relative(process.cwd(), dir) || '.',
      `${dir}///`,
      `${dir}/./`,
      `${dir}/../${join(dir).split('/').pop()}`,
    ]) {
      t.is(codeOf(ok), undefined, ok)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
