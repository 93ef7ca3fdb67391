// ESM entry point: the same module as `require('vmem')`.
import vmem from './index.js'

export const {
  Pool,
  VmemError,
  MIN_POOL,
  PAGE_SIZE,
  MAJOR_VERSION,
  MINOR_VERSION,
  setFuncs,
  checkVersion,
  errormsg,
  usableSizeFor,
} = vmem
export default vmem
