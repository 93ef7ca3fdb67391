//! The file work of creating and deleting a pool, off the JavaScript thread
//! (napi-rs async tasks on libuv's thread pool): reserving a 1 GiB pool's
//! file takes ~250 ms on tmpfs, and releasing it about as long.

use napi::bindgen_prelude::{ArrayBuffer, AsyncTask};
use napi::{Env, Task};
use napi_derive::napi;
use vmem::{Pool, SharedPool};

use crate::{register, release};

/// What `createPoolAsync` resolves to: a handle, or -1 with the error
/// (carried here: the core recorded it on the thread that did the work).
#[napi(object)]
pub struct NativeCreated {
    /// The pool's handle on this thread, or -1.
    pub handle: i32,
    /// The errno when `handle` is -1, else 0.
    pub errno: i32,
    /// The error message when `handle` is -1, else empty.
    pub message: String,
}

/// Creates a pool in a temporary file inside `dir` (`Pool::create`).
pub struct CreateTask {
    dir: String,
    size: usize,
}

impl Task for CreateTask {
    type Output = vmem::Result<Pool>;
    type JsValue = NativeCreated;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(Pool::create(&self.dir, self.size))
    }

    fn resolve(&mut self, _: Env, created: Self::Output) -> napi::Result<NativeCreated> {
        Ok(match created {
            Ok(pool) => NativeCreated { handle: register(Ok(pool), None), errno: 0, message: String::new() },
            // Reported again here, so `errormsg` on this thread tells it too.
            Err(err) => {
                let err = err.report();
                NativeCreated { handle: -1, errno: err.errno(), message: err.message().to_owned() }
            }
        })
    }
}

/// `vmem_create` on libuv's thread pool: resolves to the handle, or to -1
/// and the error.
#[napi(ts_return_type = "Promise<NativeCreated>")]
pub fn create_pool_async(dir: String, size: f64) -> AsyncTask<CreateTask> {
    AsyncTask::new(CreateTask { dir, size: size as usize })
}

/// Drops a pool handle (and the pool, when it was the last).
pub struct DropTask(Option<SharedPool>);

impl Task for DropTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        drop(self.0.take());
        Ok(())
    }

    fn resolve(&mut self, _: Env, (): ()) -> napi::Result<()> {
        Ok(())
    }
}

/// `pool_delete` with the pool dropped on libuv's thread pool: the
/// ArrayBuffer is detached now, on this thread, so every view reads as
/// length 0 before the promise settles. A region pool is dropped now.
#[napi(ts_return_type = "Promise<void>")]
pub fn pool_delete_async(handle: u32, memory: Option<ArrayBuffer>) -> AsyncTask<DropTask> {
    AsyncTask::new(DropTask(release(handle, memory).and_then(|slot| slot.take_for_drop())))
}
