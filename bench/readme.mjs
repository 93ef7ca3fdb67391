// Writes generated text into README.md between `<!-- NAME:start -->` and
// `<!-- NAME:end -->` (the markers stay; text outside them is not touched).
// Used by bench/report.mjs and bench/profile.mjs.
import { readFileSync, writeFileSync } from 'node:fs'

/**
 * Replaces what stands between the markers named `name` in README.md.
 * @param {string} name the marker's name (`bench`, `profile`)
 * @param {string} text the new text, without the markers
 */
export function writeReadmeBlock(name, text) {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const readme = readFileSync('README.md', 'utf8')
  const from = readme.indexOf(start)
  const to = readme.indexOf(end)
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} markers`)
  writeFileSync('README.md', `${readme.slice(0, from + start.length)}\n${text.trim()}\n${readme.slice(to)}`)
}
