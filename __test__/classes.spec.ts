import test from 'ava'

import { Pool, usableSizeFor } from '../index.js'
import { CLASS_MAX, CLASS_SIZES, classOf, NO_CLASS } from '../lib/classes.js'
import { POOL_64M } from './helpers.js'

test('the size classes come from the core: the JavaScript class of a size is its native usable size', (t) => {
  t.true(CLASS_SIZES.length > 20)
  t.is(CLASS_SIZES[0], 8)
  t.true(CLASS_SIZES.every((size, i) => i === 0 || size > (CLASS_SIZES[i - 1] as number)))
  let checked = 0
  for (let size = 0; size <= CLASS_MAX; size += size < 20_000 ? 1 : 97) {
    const cls = classOf(size)
    if (CLASS_SIZES[cls] !== usableSizeFor(size)) t.fail(`size ${size}: class ${CLASS_SIZES[cls]}`)
    checked++
  }
  for (const classSize of CLASS_SIZES) {
    for (const size of [classSize - 1, classSize, classSize + 1]) {
      const cls = classOf(size)
      t.is(cls === NO_CLASS ? usableSizeFor(size) : CLASS_SIZES[cls], usableSizeFor(size), `size ${size}`)
    }
  }
  t.true(checked > 20_000)
  for (const size of [CLASS_MAX + 1, CLASS_MAX * 2, 2 ** 40]) t.is(classOf(size), NO_CLASS)
})

test('a JavaScript class is what a real block of that size gets', (t) => {
  using pool = Pool.create('/dev/shm', POOL_64M)
  for (let size = 1; size <= CLASS_MAX; size = Math.ceil(size * 1.07) + 1) {
    const view = pool.malloc(size)
    t.is(pool.mallocUsableSize(view), CLASS_SIZES[classOf(size)] as number, `size ${size}`)
    pool.free(view)
  }
})
