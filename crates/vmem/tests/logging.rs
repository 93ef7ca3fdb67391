//! VMEM_LOG_LEVEL and VMEM_LOG_FILE, in a release build. Its own test binary:
//! the variables are read once per process, before the first vmem call.

mod common;

use common::SHM;
use vmem::{Pool, MIN_POOL};

#[test]
fn log_file_with_trailing_dash_gets_the_pid_and_levels_filter() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("vmem.log-");
    // SAFETY: the only test in this binary, run before any vmem call reads
    // the environment.
    unsafe {
        std::env::set_var("VMEM_LOG_LEVEL", "2");
        std::env::set_var("VMEM_LOG_FILE", &prefix);
    }
    assert_eq!(vmem::log_level(), 2);
    let pool = Pool::create(SHM, MIN_POOL).unwrap();
    let block = pool.malloc(64).unwrap();
    // SAFETY: live block.
    unsafe { pool.free(block.as_ptr()) };
    let _ = Pool::create(SHM, 5);
    drop(pool);

    let path = dir.path().join(format!("vmem.log-{}", std::process::id()));
    let log = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(log.contains("<vmem>: <2> pool") && log.contains("created"), "{log}");
    assert!(log.contains("deleted"), "{log}");
    // Reported once, where the error left the library.
    assert_eq!(log.matches("<vmem>: <1> size 5 smaller than 14680064").count(), 1, "{log}");
    // Level 4 lines (every allocation) are filtered out at level 2.
    assert!(!log.contains("malloc("), "{log}");
    // stats_print goes to the same place.
    let pool = Pool::create(SHM, MIN_POOL).unwrap();
    pool.stats_print("");
    assert!(std::fs::read_to_string(&path).unwrap().contains("Begin vmem statistics"));
}
