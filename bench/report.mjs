// Turns bench/out (raw yardstick output per backend and round, js.json) into
// medians, ratios and spreads: bench/RESULTS.md (the tables, each round's
// spread, machine, date, versions), bench/ratios.svg (each ratio against its
// goal) and the README's table (between its bench markers), all from one run.
// Usage: node bench/report.mjs bench/out ROUNDS
import { execSync } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { writeReadmeBlock } from './readme.mjs'

const [outDir = 'bench/out', roundsArg = '9'] = process.argv.slice(2)
const rounds = Number(roundsArg)
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

// backend -> figure -> round -> value
const samples = new Map()
for (const file of readdirSync(`${outDir}/raw`).filter((name) => name.endsWith('.txt'))) {
  const [backend, round] = file.split('.')
  for (const line of readFileSync(`${outDir}/raw/${file}`, 'utf8').split('\n')) {
    const [name, value] = line.split(' ')
    if (name === undefined || value === undefined || value === '' || Number.isNaN(Number(value))) continue
    const figures = samples.get(backend) ?? new Map()
    samples.set(backend, figures)
    const byRound = figures.get(name) ?? new Map()
    figures.set(name, byRound)
    byRound.set(Number(round), Number(value))
  }
}
const values = (backend, figure) => [...(samples.get(backend)?.get(figure)?.values() ?? [])]
const get = (backend, figure) => {
  const all = values(backend, figure)
  return all.length ? median(all) : undefined
}
const js = JSON.parse(readFileSync(`${outDir}/js.json`, 'utf8'))

/** A time in ns as the tables show it; "n/a" when the peer did not run. */
const ns = (value) => (value === undefined ? 'n/a' : value < 1000 ? value.toFixed(1) : value.toFixed(0))
const spread = (all) => (all.length ? `${ns(Math.min(...all))}–${ns(Math.max(...all))}` : 'n/a')
const ratioText = (ratio) => (ratio === undefined ? '—' : ratio.toFixed(2))
const mark = (met) => (met === undefined ? '' : met ? ' ✓' : ' ✗')

// The C table: vmem against every other column, each ratio to the best one.
const columns = [
  ['vmem', 'vmem'],
  ['jemalloc', 'jemalloc heap'],
  ['mimalloc', 'mimalloc heap'],
  ['tcmalloc', 'tcmalloc heap'],
  ['glibc', 'glibc'],
  ['mimalloc_arena', 'mimalloc arena (pool file)'],
]
const others = columns.slice(1).map(([backend]) => backend)
// Goals of issue 15: ratios to the best other column, same run.
const cRows = [
  ['pair 64 B', 'pair_64_ns', 1],
  ['pair 4 KiB', 'pair_4096_ns', 1],
  ['pair 64 KiB', 'pair_65536_ns', 1.5],
  ['pair 1 MiB', 'pair_1048576_ns', 1.5],
  ['batch 1000 × 8–512 B', 'batch_small_1t_ns', 1],
  ['batch 200 × 8 B–64 KiB', 'batch_mixed_1t_ns', 1.5],
  ['batch 1000 × 8–512 B, 2 threads, wall/op', 'batch_small_2t_ns_per_op_wall', 1],
  // Ours, not the issue's: ten times the live objects of the small batch.
  ['batch 10 000 × 8–512 B', 'batch_small_10k_1t_ns', 1],
].map(([label, figure, goal]) => {
  const medians = columns.map(([backend]) => get(backend, figure))
  const best = Math.min(...medians.slice(1).filter((value) => value !== undefined))
  const ratio = medians[0] !== undefined && Number.isFinite(best) ? medians[0] / best : undefined
  // Each round's own ratio: how far one run alone could be off.
  const perRound = []
  for (let round = 1; round <= rounds; round++) {
    const ours = samples.get('vmem')?.get(figure)?.get(round)
    const theirs = others
      .map((backend) => samples.get(backend)?.get(figure)?.get(round))
      .filter((value) => value !== undefined)
    if (ours !== undefined && theirs.length) perRound.push(ours / Math.min(...theirs))
  }
  return {
    label,
    cells: medians.map(ns),
    spreads: columns.map(([backend]) => spread(values(backend, figure))),
    ratio,
    perRound,
    goal,
    met: ratio === undefined ? undefined : ratio <= goal,
  }
})
const fills = [64, 4096, 1 << 20]
const fillCell = (backend) => {
  const all = fills.map((size) => get(backend, `fill_${size}_utilization`))
  return all.every((value) => value === undefined)
    ? 'n/a'
    : `${all.map((value) => (value === undefined ? '—' : (value * 100).toFixed(1))).join(' / ')} %`
}
const fillMet = fills.every((size) => (get('vmem', `fill_${size}_utilization`) ?? 0) >= 0.995)
const fillRow = `| fill 64 B / 4 KiB / 1 MiB | ${fillCell('vmem')} | — | — | — | — | ${fillCell('mimalloc_arena')} | |`

const cHeader = [
  `| ns | ${columns.map(([, label]) => label).join(' | ')} | vmem ÷ best other |`,
  `| --- | ${columns.map(() => '---').join(' | ')} | --- |`,
]
const cTable = [
  ...cHeader,
  ...cRows.map((row) => `| ${row.label} | ${row.cells.join(' | ')} | ${ratioText(row.ratio)} |`),
  fillRow,
]

// The JavaScript table.
const jsColumns = [
  ['vmem', 'vmem view'],
  ['thing', "@thi.ng/malloc `mallocAs('u8', n)`"],
  ['buffer', 'Buffer.allocUnsafe'],
]
const jsLabels = {
  pair_64: '64 B',
  pair_4096: '4 KiB',
  pair_1048576: '1 MiB',
  batch_small: 'batch 1000 × 8–512 B, per op',
}
const jsRows = js.rows.map(({ key, samples: byName }) => {
  const medians = jsColumns.map(([name]) => (byName[name]?.length ? median(byName[name]) : undefined))
  const best = Math.min(...medians.slice(1).filter((value) => value !== undefined))
  const ratio = medians[0] !== undefined && Number.isFinite(best) ? medians[0] / best : undefined
  const perRound = byName.vmem.map(
    (ours, round) => ours / Math.min(...jsColumns.slice(1).map(([name]) => byName[name][round])),
  )
  const cells = medians.map(ns)
  if (key === 'batch_small') cells[2] += ' (never freed)'
  return {
    label: jsLabels[key] ?? key,
    cells,
    spreads: jsColumns.map(([name]) => spread(byName[name] ?? [])),
    ratio,
    perRound,
    goal: 1,
    met: ratio === undefined ? undefined : ratio <= 1,
  }
})
const jsTable = [
  `| ns | ${jsColumns.map(([, label]) => label).join(' | ')} | vmem ÷ best |`,
  `| --- | ${jsColumns.map(() => '---').join(' | ')} | --- |`,
  ...jsRows.map((row) => `| ${row.label} | ${row.cells.join(' | ')} | ${ratioText(row.ratio)} |`),
]
const heapLine =
  `V8 heap growth while 2 GiB of pool memory is allocated in ${js.heapPieces} × 64 KiB views: ` +
  `${(js.heapGrowthBytes / 1048576).toFixed(1)} MiB (goal < 64 MiB${mark(js.heapGrowthBytes < 64 * 1048576)}).`

// Create and delete: vmem against libvmem's own system calls replayed in
// this run (bench/libvmem-create.c), memkind, and libvmem as measured once.
const ms = (value) => (value === undefined ? 'n/a' : `${value.toFixed(1)} ms`)
const createTable = [
  '| create | vmem | libvmem 1.8 system calls, replayed | memkind PMEM | libvmem 1.8 (docs/measurements.md) |',
  '| --- | --- | --- | --- | --- |',
  `| create+delete 1 GiB, tmpfs | ${ms(get('vmem', 'create_delete_1GiB_ms'))} | ${ms(get('libvmem_syscalls', 'create_delete_1GiB_ms'))} | ${ms(get('memkind', 'create_delete_1GiB_ms'))} | 385 ms |`,
  `| create 1 GiB, disk | ${ms(get('vmem_disk', 'create_1GiB_ms'))} | ${ms(get('libvmem_syscalls_disk', 'create_1GiB_ms'))} | ${ms(get('memkind_disk', 'create_1GiB_ms'))} | 4.3 ms |`,
]

// How noisy one run is: the widest spread of a row's per-round ratio.
const ranged = [...cRows, ...jsRows.map((row) => ({ ...row, label: `JS ${row.label}` }))].filter(
  (row) => row.perRound.length > 1,
)
const widest = ranged.reduce(
  (worst, row) =>
    Math.max(...row.perRound) / Math.min(...row.perRound) >
    Math.max(...worst.perRound) / Math.min(...worst.perRound)
      ? row
      : worst,
  ranged[0],
)
const noise = widest
  ? `A single round is noisy: its own vmem ÷ best ratio moved by up to ${(Math.max(...widest.perRound) / Math.min(...widest.perRound)).toFixed(2)}× ` +
    `within this run (${widest.label}: ${Math.min(...widest.perRound).toFixed(2)}–${Math.max(...widest.perRound).toFixed(2)} ` +
    `over ${widest.perRound.length} rounds); the medians above are steadier, and \`bench/RESULTS.md\` gives every row's min–max.`
  : ''

const version = (command) => {
  try {
    return execSync(command, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'not found'
  } catch {
    return 'not found'
  }
}
const deb = (name) => version(`dpkg-query -W -f '\${Version}' ${name}`)
const date = new Date().toISOString().slice(0, 10)
const machine =
  `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
  `Linux ${os.release()}, load average ${os.loadavg()[0].toFixed(1)} at the end`
const intro =
  `One run of \`npm run bench\` on ${date}, on a loaded 2-core machine shared with other work (${machine}): ` +
  `medians of ${rounds} alternating round${rounds === 1 ? '' : 's'}, ratios within the run, ` +
  'times in ns per malloc + write + free.'
const goals =
  'Goals (issue 15, vmem ÷ best other column): ≤ 1.0 for small pairs and batches, on one thread or two; ' +
  `≤ 1.5 for 64 KiB and 1 MiB pairs and mixed batches; fills ≥ 99.5 %${mark(fillMet)}; JavaScript ≤ 1.0.`

const spreadTable = (rows, labels) => [
  `| min–max over rounds | ${labels.join(' | ')} | vmem ÷ best other, per round |`,
  `| --- | ${labels.map(() => '---').join(' | ')} | --- |`,
  ...rows.map(
    (row) =>
      `| ${row.label} | ${row.spreads.join(' | ')} | ${row.perRound.length ? `${Math.min(...row.perRound).toFixed(2)}–${Math.max(...row.perRound).toFixed(2)}` : '—'} |`,
  ),
]
const lines = [
  '# vmem benchmark results',
  '',
  intro,
  '',
  `Versions: vmem ${JSON.parse(readFileSync('package.json', 'utf8')).version}, ${version('rustc --version')}, ` +
    `Node.js ${js.node}, jemalloc ${deb('libjemalloc2')}, mimalloc ${deb('libmimalloc2.0')}, ` +
    `tcmalloc ${deb('libtcmalloc-minimal4')}, glibc ${deb('libc6')}, memkind ${deb('libmemkind0')}, ` +
    `@thi.ng/malloc ${JSON.parse(readFileSync('node_modules/@thi.ng/malloc/package.json', 'utf8')).version}.`,
  '',
  'Command: `npm run bench` (`bench/run.sh`). Heaps through `LD_PRELOAD`; the mimalloc arena is an exclusive ' +
    'arena over a fallocated, shared-mapped pool file, a heap per thread (`bench/vmem_bench.c`). A peer that ' +
    'could not be installed says n/a.',
  '',
  goals,
  '',
  ...cTable.map((line, i) =>
    i > 1 && i - 2 < cRows.length ? line.replace(/ \|$/, `${mark(cRows[i - 2].met)} |`) : line,
  ),
  '',
  ...jsTable.map((line, i) => (i > 1 ? line.replace(/ \|$/, `${mark(jsRows[i - 2].met)} |`) : line)),
  '',
  heapLine,
  '',
  ...createTable,
  '',
  '## Spread',
  '',
  noise,
  '',
  ...spreadTable(
    cRows,
    columns.map(([, label]) => label),
  ),
  '',
  ...spreadTable(
    jsRows,
    jsColumns.map(([, label]) => label),
  ),
  '',
]
writeFileSync('bench/RESULTS.md', lines.join('\n'))
writeReadmeBlock(
  'bench',
  [
    intro,
    '',
    cTable.join('\n'),
    '',
    jsTable.join('\n'),
    '',
    heapLine,
    '',
    createTable.join('\n'),
    '',
    goals,
    '',
    noise,
  ].join('\n'),
)

// The chart: each ratio as a bar, its goal as a line.
const bars = [...cRows, ...jsRows.map((row) => ({ ...row, label: `JS: ${row.label}` }))].filter(
  (row) => row.ratio !== undefined,
)
const width = 760
const rowHeight = 34
const left = 330
const scale = (ratio) => Math.round(Math.max(2, Math.min(width - left - 60, (Math.log10(ratio) + 1) * 140)))
const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${bars.length * rowHeight + 50}" font-family="sans-serif" font-size="13">`,
  `<text x="10" y="20" font-weight="bold">vmem ÷ best other (log scale; the tick is the goal; lower is better)</text>`,
  ...bars.map((row, i) => {
    const y = 36 + i * rowHeight
    const colour = row.met ? '#2e7d32' : '#c62828'
    return [
      `<text x="10" y="${y + 17}">${row.label.replace(/&/g, '&amp;')}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${scale(row.ratio)}" height="18" fill="${colour}"/>`,
      `<line x1="${left + scale(row.goal)}" x2="${left + scale(row.goal)}" y1="${y}" y2="${y + 26}" stroke="#000" stroke-width="2"/>`,
      `<text x="${left + Math.max(scale(row.ratio), scale(row.goal)) + 6}" y="${y + 17}">${row.ratio.toFixed(2)}×</text>`,
    ].join('')
  }),
  '</svg>',
]
writeFileSync('bench/ratios.svg', svg.join('\n'))
console.log(lines.join('\n'))
