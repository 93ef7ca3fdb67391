//! The library's own run-time state goes through the host's functions
//! (`vmem_set_funcs`): a global allocator that forwards to `malloc_func`,
//! `realloc_func` and `free_func`, or to libc's until they are set.
//!
//! Each block carries a small trailer naming the `free` function that owns
//! it, so blocks made before a `vmem_set_funcs` call are still freed by the
//! right function after it. The trailer sits after the data, so that a block
//! starts where the host's malloc put it: memcheck then sees the library's
//! long-lived state (held in statics until exit) as reachable, not as
//! "possibly lost" through pointers into the middle of a malloc block. When the host's `malloc` fails, the block comes from a
//! small emergency buffer instead (Rust would abort the process on a null
//! allocation) and the failure is noted, so that `vmem_create` can undo its
//! work and return NULL with ENOMEM.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub(crate) type MallocFn = unsafe extern "C" fn(usize) -> *mut c_void;
pub(crate) type FreeFn = unsafe extern "C" fn(*mut c_void);
pub(crate) type ReallocFn = unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void;

/// The host's functions, as addresses (0: libc's).
static MALLOC: AtomicUsize = AtomicUsize::new(0);
static FREE: AtomicUsize = AtomicUsize::new(0);
static REALLOC: AtomicUsize = AtomicUsize::new(0);

/// Installs the host's allocation functions; `None` restores libc's.
pub(crate) fn set(malloc: Option<MallocFn>, free: Option<FreeFn>, realloc: Option<ReallocFn>) {
    MALLOC.store(malloc.map_or(0, |f| f as usize), Ordering::Release);
    FREE.store(free.map_or(0, |f| f as usize), Ordering::Release);
    REALLOC.store(realloc.map_or(0, |f| f as usize), Ordering::Release);
}

fn current_malloc() -> MallocFn {
    match MALLOC.load(Ordering::Acquire) {
        0 => libc::malloc,
        // SAFETY: only `set` stores non-zero values, all of them MallocFn.
        f => unsafe { std::mem::transmute::<usize, MallocFn>(f) },
    }
}

fn current_free() -> FreeFn {
    match FREE.load(Ordering::Acquire) {
        0 => libc::free,
        // SAFETY: as in `current_malloc`.
        f => unsafe { std::mem::transmute::<usize, FreeFn>(f) },
    }
}

fn current_realloc() -> ReallocFn {
    match REALLOC.load(Ordering::Acquire) {
        0 => libc::realloc,
        // SAFETY: as in `current_malloc`.
        f => unsafe { std::mem::transmute::<usize, ReallocFn>(f) },
    }
}

thread_local! {
    /// Set when the host's malloc failed on this thread.
    static HOST_MALLOC_FAILED: Cell<bool> = const { Cell::new(false) };
}

/// Clears this thread's failure note, runs `f`, and tells whether the host's
/// malloc failed meanwhile.
pub(crate) fn watch<R>(f: impl FnOnce() -> R) -> (R, bool) {
    let _ = HOST_MALLOC_FAILED.try_with(|failed| failed.set(false));
    let result = f();
    let failed = HOST_MALLOC_FAILED.try_with(Cell::get).unwrap_or(false);
    (result, failed)
}

/// What follows a block's data (at [`trailer_offset`]).
#[repr(C)]
struct Trailer {
    free: FreeFn,
    /// What the host's malloc returned: the block, unless its alignment is
    /// more than malloc's.
    original: *mut u8,
}

const TRAILER: usize = std::mem::size_of::<Trailer>();

/// Where the trailer of a block of `size` bytes starts, from the block.
fn trailer_offset(size: usize) -> usize {
    size.next_multiple_of(std::mem::align_of::<Trailer>())
}

/// Room asked of the host for a block of `layout`: the data, the trailer,
/// and room to align the block (unused when malloc's own alignment, 16
/// bytes with glibc, already gives it).
fn request(layout: Layout) -> usize {
    trailer_offset(layout.size()) + TRAILER + layout.align() - 1
}

/// Where the block goes inside what the host returned.
fn block_in(original: *mut u8, layout: Layout) -> *mut u8 {
    (original as usize).next_multiple_of(layout.align()) as *mut u8
}

/// The trailer of `block`, a block of `layout`.
///
/// # Safety
///
/// `block` came from [`HostAllocator::alloc`] with `layout`.
unsafe fn trailer(block: *mut u8, layout: Layout) -> *mut Trailer {
    // SAFETY: the trailer lies inside the host's block (see `request`).
    unsafe { block.add(trailer_offset(layout.size())).cast() }
}

/// Places the block inside what the host returned and writes its trailer.
///
/// # Safety
///
/// `original` holds `request(layout)` bytes.
unsafe fn place(original: *mut u8, layout: Layout, free: FreeFn) -> *mut u8 {
    let block = block_in(original, layout);
    // SAFETY: block + trailer_offset + TRAILER <= original + request; the
    // trailer's offset is a multiple of its alignment, and so is `block`
    // (malloc aligns to 16 at least).
    unsafe { trailer(block, layout).write_unaligned(Trailer { free, original }) };
    block
}

/// A small buffer for the library's state when the host's malloc fails.
pub(crate) struct Emergency {
    used: usize,
    live: usize,
}

const EMERGENCY_SIZE: usize = 1 << 20;
#[repr(C, align(4096))]
struct EmergencyBuffer(std::cell::UnsafeCell<[u8; EMERGENCY_SIZE]>);
// SAFETY: disjoint pieces are handed out under the EMERGENCY mutex.
unsafe impl Sync for EmergencyBuffer {}
static EMERGENCY_BUFFER: EmergencyBuffer = EmergencyBuffer(std::cell::UnsafeCell::new([0; EMERGENCY_SIZE]));
// std's Mutex does not allocate, so it may be used inside the allocator.
pub(crate) static EMERGENCY: Mutex<Emergency> = Mutex::new(Emergency { used: 0, live: 0 });

fn emergency_contains(ptr: *mut u8) -> bool {
    (ptr as usize).wrapping_sub(EMERGENCY_BUFFER.0.get() as usize) < EMERGENCY_SIZE
}

fn emergency_alloc(layout: Layout) -> *mut u8 {
    let _ = HOST_MALLOC_FAILED.try_with(|failed| failed.set(true));
    let mut emergency = EMERGENCY.lock().unwrap_or_else(|e| e.into_inner());
    let base = EMERGENCY_BUFFER.0.get() as usize;
    let start = (base + emergency.used).next_multiple_of(layout.align());
    if start + layout.size() > base + EMERGENCY_SIZE {
        return ptr::null_mut();
    }
    emergency.used = start + layout.size() - base;
    emergency.live += 1;
    start as *mut u8
}

fn emergency_free() {
    let mut emergency = EMERGENCY.lock().unwrap_or_else(|e| e.into_inner());
    emergency.live -= 1;
    if emergency.live == 0 {
        emergency.used = 0;
    }
}

/// The global allocator of `libvmem.so`.
pub(crate) struct HostAllocator;

// SAFETY: blocks come from the host's malloc (or the emergency buffer) with
// room for the layout, and go back to the free function that owns them.
unsafe impl GlobalAlloc for HostAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let malloc = current_malloc();
        // SAFETY: calling the host's malloc with a size.
        let original = unsafe { malloc(request(layout)) }.cast::<u8>();
        if original.is_null() {
            return emergency_alloc(layout);
        }
        // SAFETY: `original` holds request(layout) bytes.
        unsafe { place(original, layout, current_free()) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if emergency_contains(block) {
            return emergency_free();
        }
        // SAFETY: `block` came from `alloc` with `layout`, which wrote its
        // trailer.
        let trailer = unsafe { trailer(block, layout).read_unaligned() };
        // SAFETY: the trailer names the free function of the host's malloc
        // that returned `original`.
        unsafe { (trailer.free)(trailer.original.cast()) };
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !emergency_contains(block) {
            // SAFETY: `block` came from `alloc` with `layout`, which wrote its
            // trailer.
            let trailer = unsafe { trailer(block, layout).read_unaligned() };
            if trailer.free as usize == current_free() as usize {
                let old_offset = block as usize - trailer.original as usize;
                // SAFETY: a valid layout: new_size was checked by the caller.
                let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                // SAFETY: `original` came from the host's malloc of this family.
                let original = unsafe { current_realloc()(trailer.original.cast(), request(new_layout)) }.cast::<u8>();
                if !original.is_null() {
                    // The host's realloc kept the bytes at the same offset.
                    // SAFETY: both ranges lie inside the new allocation.
                    unsafe {
                        let kept = layout.size().min(new_size);
                        return place_keeping(original, old_offset, kept, new_layout, trailer.free);
                    }
                }
                // The old block is untouched: fall back to a fresh one.
            }
        }
        // SAFETY: a valid layout, as above.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: GlobalAlloc contract for alloc/dealloc.
        unsafe {
            let fresh = self.alloc(new_layout);
            if !fresh.is_null() {
                ptr::copy_nonoverlapping(block, fresh, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
            fresh
        }
    }
}

/// After the host's realloc moved a block to `original`, puts it where its
/// alignment wants it (`kept` bytes of data sit at `old_offset`) and writes
/// its trailer.
///
/// # Safety
///
/// `original` holds `request(layout)` bytes, of which `old_offset..` holds
/// `kept` bytes of the block's data, `kept <= layout.size()`.
unsafe fn place_keeping(original: *mut u8, old_offset: usize, kept: usize, layout: Layout, free: FreeFn) -> *mut u8 {
    let block = block_in(original, layout);
    let new_offset = block as usize - original as usize;
    if new_offset != old_offset {
        // SAFETY: both offsets are below the alignment, which the request
        // leaves room for before the data.
        unsafe { ptr::copy(original.add(old_offset), block, kept) };
    }
    // SAFETY: as in `place`.
    unsafe { trailer(block, layout).write_unaligned(Trailer { free, original }) };
    block
}
