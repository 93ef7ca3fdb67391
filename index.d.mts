// Typings of the ESM entry point (index.mjs), so `import` gets ESM types
// rather than the CommonJS ones: the same named exports as index.d.ts, and
// the default export index.mjs gives (the whole CommonJS module).
import vmem from './index.js'

export * from './index.js'
export default vmem
