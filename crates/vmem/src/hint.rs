//! Layout hints for the hot paths.

/// Marks the path that calls it as the rare one, so that the compiler lays
/// the common path out straight, with no taken jump (`std::hint::cold_path`
/// is newer than the crate's minimum Rust).
#[cold]
#[inline]
pub(crate) fn cold() {}
