//! The live pools of the process and their address ranges, so that `check`
//! can tell a pool whose memory overlaps another's.

use std::ops::Range;
use std::sync::Mutex;

pub(crate) static LIVE: Mutex<Vec<(u64, Range<usize>)>> = Mutex::new(Vec::new());

pub(crate) fn add(pool_id: u64, range: Range<usize>) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).push((pool_id, range));
}

pub(crate) fn remove(pool_id: u64) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|(id, _)| *id != pool_id);
}

/// Whether the pool is registered and no other live pool shares its memory.
pub(crate) fn is_alone(pool_id: u64) -> bool {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    let Some((_, mine)) = live.iter().find(|(id, _)| *id == pool_id) else {
        return false;
    };
    live.iter().filter(|(id, _)| *id != pool_id).all(|(_, other)| other.end <= mine.start || mine.end <= other.start)
}
