// VMEM_LOG_LEVEL from JavaScript: log lines reach the print function given
// to setFuncs (asynchronously, on this thread). Its own test file, hence its
// own process: the level is read once, at the library's first log check.
import test from 'ava'

test('log lines reach the setFuncs print function', async (t) => {
  process.env.VMEM_LOG_LEVEL = '2'
  const { MIN_POOL, Pool, setFuncs } = await import('../index.js')
  const lines: string[] = []
  setFuncs({ print: (text) => lines.push(text) })
  try {
    const pool = Pool.create('/dev/shm', MIN_POOL)
    pool.delete()
    t.throws(() => Pool.create('/dev/shm', 5))
    // Log lines come through a thread-safe function: let the loop run.
    for (let i = 0; i < 50 && lines.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  } finally {
    setFuncs({ print: null })
  }
  const text = lines.join('')
  t.regex(text, /<vmem>: <2> pool \d+ created/)
  t.regex(text, /<vmem>: <2> pool \d+ deleted/)
  t.regex(text, /<vmem>: <1> size 5 smaller than 14680064/)
})
