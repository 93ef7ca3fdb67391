//! malloc+free pairs and batches on a pool against the process heap under
//! the same jemalloc 5.3 (its automatic arena and tcache) and under glibc,
//! side by side in one process, alternating rounds, medians.
//!
//! `cargo bench -p vmem-pool --bench pairs`

use std::hint::black_box;
use std::time::Instant;

use vmem_jemalloc_sys as jemalloc;

const ROUNDS: usize = 9;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

/// Nanoseconds per malloc+free pair of `size` bytes.
fn pair_ns(iterations: usize, mut alloc: impl FnMut() -> *mut u8, mut free: impl FnMut(*mut u8)) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        let block = alloc();
        // SAFETY: a fresh block of at least 8 bytes.
        unsafe { block.write_volatile(1) };
        free(black_box(block));
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

/// Nanoseconds per operation for batches of 1000 random 8–512 B objects
/// freed in shuffled order.
fn batch_ns(batches: usize, mut alloc: impl FnMut(usize) -> *mut u8, mut free: impl FnMut(*mut u8)) -> f64 {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let sizes: Vec<usize> = (0..1000).map(|_| 8 + (next() % 505) as usize).collect();
    let mut order: Vec<usize> = (0..1000).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    let mut blocks = vec![std::ptr::null_mut(); 1000];
    let start = Instant::now();
    for _ in 0..batches {
        for (slot, &size) in blocks.iter_mut().zip(&sizes) {
            *slot = alloc(size);
        }
        for &i in &order {
            free(blocks[i]);
        }
    }
    start.elapsed().as_nanos() as f64 / (batches * 1000) as f64
}

fn main() {
    let pool = vmem::Pool::create("/dev/shm", 1 << 30).expect("pool in /dev/shm");
    println!(
        "{:<28} {:>10} {:>14} {:>10} {:>9} {:>9}",
        "workload", "vmem ns", "jemalloc ns", "glibc ns", "vs je", "vs glibc"
    );
    for size in [64usize, 4096, 64 << 10, 1 << 20] {
        let iterations = if size >= 64 << 10 { 200_000 } else { 2_000_000 };
        let (mut ours, mut je, mut glibc) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            ours.push(pair_ns(iterations, || pool.malloc(size).unwrap().as_ptr(), |p| unsafe { pool.free(p) }));
            // SAFETY: jemalloc's and libc's malloc/free on their own blocks.
            je.push(pair_ns(
                iterations,
                || unsafe { jemalloc::malloc(size).cast() },
                |p| unsafe { jemalloc::free(p.cast()) },
            ));
            glibc.push(pair_ns(
                iterations,
                || unsafe { libc::malloc(size).cast() },
                |p| unsafe { libc::free(p.cast()) },
            ));
        }
        report(&format!("pair {size} B"), median(ours), median(je), median(glibc));
    }
    let (mut ours, mut je, mut glibc) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(batch_ns(2000, |n| pool.malloc(n).unwrap().as_ptr(), |p| unsafe { pool.free(p) }));
        // SAFETY: as above.
        je.push(batch_ns(2000, |n| unsafe { jemalloc::malloc(n).cast() }, |p| unsafe { jemalloc::free(p.cast()) }));
        glibc.push(batch_ns(2000, |n| unsafe { libc::malloc(n).cast() }, |p| unsafe { libc::free(p.cast()) }));
    }
    report("batch 1000 x 8-512 B", median(ours), median(je), median(glibc));
}

fn report(name: &str, ours: f64, je: f64, glibc: f64) {
    println!("{name:<28} {ours:>10.1} {je:>14.1} {glibc:>10.1} {:>8.2}x {:>8.2}x", ours / je, ours / glibc);
}
