//! VMEM_LOG_LEVEL=4 traces every allocation and free, even those the
//! per-thread front cache would serve without a call. Its own test binary:
//! the level is read once per process, before the first vmem call.

mod common;

use common::SHM;
use vmem::{Pool, MIN_POOL};

#[test]
fn level_4_logs_every_malloc_and_free() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.log");
    // SAFETY: the only test in this binary, run before any vmem call reads
    // the environment.
    unsafe {
        std::env::set_var("VMEM_LOG_LEVEL", "4");
        std::env::set_var("VMEM_LOG_FILE", &path);
    }
    let pool = Pool::create(SHM, MIN_POOL).unwrap();
    for _ in 0..1000 {
        let block = pool.malloc(64).unwrap();
        // SAFETY: live block, freed once.
        unsafe { pool.free(block.as_ptr()) };
    }
    let log = std::fs::read_to_string(&path).unwrap();
    assert_eq!(log.matches("malloc(64) = ").count(), 1000, "{}", &log[..log.len().min(2000)]);
    assert_eq!(log.matches("free(0x").count(), 1000);
}
