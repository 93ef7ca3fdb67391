// Turns bench/out (raw yardstick output, js.json) into medians and ratios:
// bench/RESULTS.md (Markdown table with machine, date, versions) and
// bench/ratios.svg (a bar chart of each ratio against its goal).
// Usage: node bench/report.mjs bench/out ROUNDS
import { execSync } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'

const [outDir = 'bench/out', roundsArg = '3'] = process.argv.slice(2)
const rounds = Number(roundsArg)
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

// backend -> figure -> [values]
const samples = new Map()
for (const file of readdirSync(`${outDir}/raw`).filter((name) => name.endsWith('.txt'))) {
  const backend = file.split('.')[0].replace(/^memkind_(create|pair|batch|fill)$/, 'memkind')
  for (const line of readFileSync(`${outDir}/raw/${file}`, 'utf8').split('\n')) {
    const [name, value] = line.split(' ')
    if (name === undefined || value === undefined || Number.isNaN(Number(value))) continue
    const figures = samples.get(backend) ?? new Map()
    samples.set(backend, figures)
    figures.set(name, [...(figures.get(name) ?? []), Number(value)])
  }
}
const get = (backend, figure) => {
  const values = samples.get(backend)?.get(figure)
  return values?.length ? median(values) : undefined
}
const js = JSON.parse(readFileSync(`${outDir}/js.json`, 'utf8'))

const fmt = (value, unit) => {
  if (value === undefined) return '—'
  if (unit === '%') return `${(value * 100).toFixed(1)} %`
  if (unit === 'ms') return `${value.toFixed(1)} ms`
  if (unit === 'MiB') return `${(value / 1048576).toFixed(1)} MiB`
  return `${value < 100 ? value.toFixed(1) : value.toFixed(0)} ns`
}

// Rows: [figure, ours, peers..., ratio, goal test, goal text, libvmem 1.8 (docs/measurements.md)]
const rows = []
const ratioRow = (label, figure, goal, libvmem) => {
  const ours = get('vmem', figure)
  const je = get('jemalloc', figure)
  const ratio = ours !== undefined && je ? ours / je : undefined
  rows.push({
    label,
    cells: [fmt(ours), fmt(je), fmt(get('glibc', figure)), fmt(get('memkind', figure))],
    ratio,
    ratioText: ratio === undefined ? '—' : `${ratio.toFixed(2)}×`,
    goal: goal === undefined ? '—' : `≤ ${goal}×`,
    met: goal === undefined || ratio === undefined ? undefined : ratio <= goal,
    goalValue: goal,
    libvmem,
  })
}
ratioRow('malloc+free, 64 B', 'pair_64_ns', 1.5, '4.2×')
ratioRow('malloc+free, 4 KiB', 'pair_4096_ns', undefined, '—')
ratioRow('malloc+free, 64 KiB', 'pair_65536_ns', undefined, '10.5×')
ratioRow('malloc+free, 1 MiB', 'pair_1048576_ns', 2, '17×')
ratioRow('1000 × 8–512 B, shuffled frees', 'batch_small_1t_ns', 1.3, '2.1×')
ratioRow('same, 2 threads, one pool (wall/op)', 'batch_small_2t_ns_per_op_wall', 1.3, '1.7×')

const fillRows = [
  ['64 MiB pool filled, 64 B objects', 'fill_64_utilization', 0.97, '91.7 %'],
  ['… 4 KiB objects', 'fill_4096_utilization', 0.97, '93.2 %'],
  ['… 1 MiB objects', 'fill_1048576_utilization', 0.95, '70.3 %'],
].map(([label, figure, goal, libvmem]) => {
  const ours = get('vmem', figure)
  return {
    label,
    cells: [fmt(ours, '%'), '—', '—', fmt(get('memkind', figure), '%')],
    ratioText: '',
    goal: `≥ ${goal * 100} %`,
    met: ours === undefined ? undefined : ours >= goal,
    libvmem,
  }
})
// libvmem's create/delete system calls, replayed in this run
// (bench/libvmem-create.c), are the yardstick; docs/measurements.md gives the one measured once.
const createRows = [
  [
    'create+delete 1 GiB, tmpfs',
    get('vmem', 'create_delete_1GiB_ms'),
    get('memkind', 'create_delete_1GiB_ms'),
    get('libvmem_syscalls', 'create_delete_1GiB_ms'),
    '385 ms',
  ],
  [
    'create 1 GiB, disk (ext4)',
    get('vmem_disk', 'create_1GiB_ms'),
    get('memkind_disk', 'create_1GiB_ms'),
    get('libvmem_syscalls_disk', 'create_1GiB_ms'),
    '4.3 ms',
  ],
].map(([label, ours, memkind, replayed, measured]) => ({
  label,
  cells: [fmt(ours, 'ms'), '—', '—', fmt(memkind, 'ms')],
  ratioText: '',
  goal: `≤ libvmem (its system calls here: ${fmt(replayed, 'ms')})`,
  met: ours === undefined || replayed === undefined ? undefined : ours <= replayed,
  libvmem: measured,
}))

const jsGoals = { 64: 4, 4096: 0.2, 1048576: 0.05 }
const jsRows = js.pairs.map(({ size, vmemNs, bufferNs }) => {
  const ratio = vmemNs / bufferNs
  return {
    label: `JS: malloc+write+free vs Buffer.allocUnsafe, ${size >= 1048576 ? '1 MiB' : size >= 4096 ? '4 KiB' : '64 B'}`,
    vmem: fmt(vmemNs),
    buffer: fmt(bufferNs),
    ratio,
    ratioText: `${ratio.toFixed(2)}×`,
    goal: `≤ ${jsGoals[size]}×`,
    goalValue: jsGoals[size],
    met: ratio <= jsGoals[size],
  }
})
const heapRow = {
  label: `JS: V8 heap growth, 2 GiB of pool memory in ${js.heapPieces} × 64 KiB`,
  value: fmt(js.heapGrowthBytes, 'MiB'),
  met: js.heapGrowthBytes < 64 * 1048576,
}

const version = (command) => {
  try {
    return execSync(command, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return 'not found'
  }
}
const mark = (met) => (met === undefined ? '' : met ? ' ✓' : ' ✗')
const lines = [
  '# vmem benchmark results',
  '',
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}. ` +
    `Date: ${new Date().toISOString().slice(0, 10)}. Medians of ${rounds} alternating rounds; ratios are within one run.`,
  '',
  `Versions: vmem ${JSON.parse(readFileSync('package.json', 'utf8')).version}, ${version('rustc --version')}, ` +
    `Node.js ${js.node}, jemalloc ${version("dpkg-query -W -f '${Version}' libjemalloc2")} (system, LD_PRELOAD), ` +
    `memkind ${version("dpkg-query -W -f '${Version}' libmemkind0")}, glibc ${version("dpkg-query -W -f '${Version}' libc6")}.`,
  '',
  'Command: `npm run bench`. The libvmem 1.8 column is from `docs/measurements.md` (libvmem is not installable here), not this run; ' +
    "for create and delete, libvmem's own system calls (`bench/libvmem-create.c`) are replayed in this run as the yardstick.",
  '',
  '| figure | vmem | jemalloc heap | glibc heap | memkind PMEM | vmem ÷ jemalloc | goal | libvmem 1.8 |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...[...rows, ...fillRows, ...createRows].map(
    (row) =>
      `| ${row.label} | ${row.cells.join(' | ')} | ${row.ratioText} | ${row.goal}${mark(row.met)} | ${row.libvmem} |`,
  ),
  '',
  '| JavaScript | vmem view | Buffer.allocUnsafe | ratio | goal |',
  '| --- | --- | --- | --- | --- |',
  ...jsRows.map(
    (row) =>
      `| ${row.label.replace(/^JS: /, '')} | ${row.vmem} | ${row.buffer} | ${row.ratioText} | ${row.goal}${mark(row.met)} |`,
  ),
  `| ${heapRow.label.replace(/^JS: /, '')} | ${heapRow.value} | | | < 64 MiB${mark(heapRow.met)} |`,
  '',
]
writeFileSync('bench/RESULTS.md', lines.join('\n'))

// The chart: each ratio as a bar, its goal as a line.
const bars = [...rows.filter((row) => row.goalValue !== undefined), ...jsRows].filter(
  (row) => row.ratio !== undefined,
)
const width = 760
const rowHeight = 34
const left = 330
const scale = (ratio) => Math.min(width - left - 60, (Math.log10(ratio) + 2) * 110)
const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${bars.length * rowHeight + 50}" font-family="sans-serif" font-size="13">`,
  `<text x="10" y="20" font-weight="bold">vmem ÷ peer (log scale; the tick is the goal; lower is better)</text>`,
  ...bars.map((row, i) => {
    const y = 36 + i * rowHeight
    const colour = row.met ? '#2e7d32' : '#c62828'
    return [
      `<text x="10" y="${y + 17}">${row.label.replace(/&/g, '&amp;')}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${Math.max(2, scale(row.ratio))}" height="18" fill="${colour}"/>`,
      `<line x1="${left + scale(row.goalValue)}" x2="${left + scale(row.goalValue)}" y1="${y}" y2="${y + 26}" stroke="#000" stroke-width="2"/>`,
      `<text x="${left + Math.max(2, scale(row.ratio)) + 6}" y="${y + 17}">${row.ratioText}</text>`,
    ].join('')
  }),
  '</svg>',
]
writeFileSync('bench/ratios.svg', svg.join('\n'))
console.log(lines.join('\n'))
