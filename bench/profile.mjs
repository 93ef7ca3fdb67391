// Turns bench/out/profile (callgrind dumps of bench/vmem_bench.c run with
// BENCH_PROFILE=N, one folder per backend) into instructions per pair:
// bench/PROFILE.md and the README's profile table.
// Usage: node bench/profile.mjs bench/out/profile N
import { execSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { writeReadmeBlock } from './readme.mjs'

const [outDir = 'bench/out/profile', pairsArg = '20000'] = process.argv.slice(2)
const pairs = Number(pairsArg)
const columns = [
  ['vmem', 'vmem'],
  ['jemalloc', 'jemalloc heap'],
  ['tcmalloc', 'tcmalloc heap'],
  ['mimalloc', 'mimalloc heap'],
  ['glibc', 'glibc'],
  ['mimalloc_arena', 'mimalloc arena (pool file)'],
]
// [callgrind dump name, row label]: N pairs, or N malloc + free operations
const rowsCounted = [
  ['pair_64', 'pair 64 B'],
  ['pair_4096', 'pair 4 KiB'],
  ['pair_65536', 'pair 64 KiB'],
  ['pair_1048576', 'pair 1 MiB'],
  ['batch_small', 'batch 1000 × 8–512 B, per op'],
  ['batch_mixed', 'batch 200 × 8 B–64 KiB, per op'],
]

// backend -> dump name -> instructions per pair or per operation
const counts = new Map()
for (const [backend] of columns) {
  const folder = `${outDir}/${backend}`
  if (!existsSync(folder)) continue
  const figures = new Map()
  for (const file of readdirSync(folder).filter((name) => /^callgrind\.out\.\d+$/.test(name))) {
    const text = readFileSync(`${folder}/${file}`, 'utf8')
    const name = /^desc: Trigger: Client Request: (\S+)$/m.exec(text)?.[1]
    const summary = /^summary: (\d+)$/m.exec(text)?.[1]
    if (name && summary) figures.set(name, Number(summary) / pairs)
  }
  counts.set(backend, figures)
}

const fmt = (value) => (value === undefined ? 'n/a' : value.toFixed(0))
const rows = rowsCounted.map(([name, label]) => {
  const cells = columns.map(([backend]) => counts.get(backend)?.get(name))
  const others = cells.slice(1).filter((value) => value !== undefined)
  const best = others.length ? Math.min(...others) : undefined
  const ratio = cells[0] !== undefined && best ? cells[0] / best : undefined
  return `| ${label} | ${cells.map(fmt).join(' | ')} | ${ratio === undefined ? '—' : ratio.toFixed(2)} |`
})
const valgrind = (() => {
  try {
    return execSync('valgrind --version', { encoding: 'utf8' }).trim()
  } catch {
    return 'valgrind'
  }
})()
const table = [
  `| instructions | ${columns.map(([, label]) => label).join(' | ')} | vmem ÷ best |`,
  `| --- | ${columns.map(() => '---').join(' | ')} | --- |`,
  ...rows,
].join('\n')
const note =
  `Callgrind (${valgrind}) instruction counts per malloc + touch + free pair, ${pairs} pairs of each size ` +
  `counted after ${pairs} to warm up, and per operation (malloc + touch + free) of the single-thread batches, ` +
  `${pairs} operations counted after as many; the benchmark loop's own instructions included ` +
  '(`npm run bench:profile`; heaps through `LD_PRELOAD`). Counts, unlike times, do not move with the load on the machine.'
writeFileSync('bench/PROFILE.md', `# vmem instruction counts\n\n${note}\n\n${table}\n`)
writeReadmeBlock('profile', `${note}\n\n${table}`)
console.log(table)
