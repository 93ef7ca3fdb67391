//! The README's Rust example: `cargo run -p vmem-pool --example quickstart [dir]`.

use vmem::Pool;

fn main() -> Result<(), vmem::Error> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "/dev/shm".into());
    let pool = Pool::create(&dir, 64 << 20)?;

    // malloc-style, with raw pointers
    let greeting = pool.strdup(c"hello, world")?;
    // SAFETY: `greeting` is a live, NUL-terminated block of `pool`, freed once.
    unsafe {
        println!("{:?} lives in a pool in {dir}", std::ffi::CStr::from_ptr(greeting.as_ptr()));
        pool.free(greeting.as_ptr().cast());
    }

    // or collections that live in the pool
    let mut squares = allocator_api2::vec::Vec::new_in(&pool);
    squares.extend((0..100_000u64).map(|n| n * n));
    println!("{} squares, the last {}", squares.len(), squares[squares.len() - 1]);

    let stats = pool.stats();
    println!("pool: {} bytes, {} allocated, {} active", stats.size, stats.allocated, stats.active);
    Ok(())
}
