//! Fork-join for the short, repeated pieces of work of a recurrent step, on helper
//! threads that spin between jobs.
//!
//! A recurrent step (a decoding step of the GRU, one time step of training) takes
//! tens to hundreds of microseconds, and thousands of them run back to back. Split
//! between cores through rayon, each join wakes a pool thread that went to sleep
//! after the last one, which costs tens of microseconds on a virtual machine
//! (measured: a hidden-512 decoding step split in two with `rayon::broadcast` was
//! 1.4x slower than on one core). [`run_parts`] instead hands part `i` to helper
//! thread `i`, always the same thread (so the same weights stay in the same core's
//! cache from step to step), which spins for [`SPIN`] after each job before it
//! parks.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! let sum = AtomicUsize::new(0);
//! uisrnn_kernels::parts::run_parts(4, &|part| {
//!     sum.fetch_add(part + 1, Ordering::Relaxed);
//! });
//! assert_eq!(sum.into_inner(), 1 + 2 + 3 + 4);
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long a helper spins for its next job before it parks.
pub const SPIN: Duration = Duration::from_micros(500);

/// The most helper threads (parts beyond them run on the caller).
const MAX_HELPERS: usize = 63;

/// How many parts a step should be cut into here: the threads of the current rayon
/// pool (`RAYON_NUM_THREADS`), so that one thread means one core.
pub fn available() -> usize {
    rayon::current_num_threads().clamp(1, MAX_HELPERS + 1)
}

/// Runs `work(part)` for every part in `0..parts`: part 0 on the calling thread,
/// part `i` on helper thread `i` (started on first use) where that helper is free,
/// else on the caller. Returns when every part has finished; a panic in any part
/// is raised here, after all of them have stopped.
pub fn run_parts(parts: usize, work: &(dyn Fn(usize) + Sync)) {
    if parts <= 1 {
        if parts == 1 {
            work(0);
        }
        return;
    }
    // SAFETY: the helpers only call `work` between `post` and their `finished`
    // mark, and `Claimed::drop` waits for that mark before this function returns
    // or unwinds, so `work` outlives every use.
    let erased: &'static (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(work) };
    let mut claimed = Claimed(Vec::with_capacity(parts - 1));
    let mut inline = Vec::new();
    for part in 1..parts {
        // A forked child inherits the helpers' records but not their threads.
        let alive = |helper: &&Helper| helper.process == std::process::id();
        match helper(part)
            .filter(alive)
            .filter(|helper| helper.try_claim())
        {
            Some(helper) => {
                helper.post(erased, part);
                claimed.0.push(helper);
            }
            None => inline.push(part),
        }
    }
    let own = catch_unwind(AssertUnwindSafe(|| {
        work(0);
        inline.iter().for_each(|&part| work(part));
    }));
    let helpers_panicked = claimed.wait();
    if let Err(panic) = own {
        resume_unwind(panic);
    }
    if helpers_panicked {
        panic!("a part of a parallel step panicked on its helper thread");
    }
}

/// The helpers a call holds; dropping it (also while unwinding) waits for them.
struct Claimed(Vec<&'static Helper>);

impl Claimed {
    /// Waits for every claimed helper to finish and frees it; whether any part
    /// panicked.
    fn wait(&mut self) -> bool {
        let mut panicked = false;
        for helper in self.0.drain(..) {
            panicked |= helper.wait_and_release();
        }
        panicked
    }
}

impl Drop for Claimed {
    fn drop(&mut self) {
        self.wait();
    }
}

/// Helper thread `part` (1-based), started on first use; `None` past
/// [`MAX_HELPERS`] or when the system refuses a thread.
fn helper(part: usize) -> Option<&'static Helper> {
    static HELPERS: OnceLock<Vec<OnceLock<Option<&'static Helper>>>> = OnceLock::new();
    let helpers = HELPERS.get_or_init(|| (0..MAX_HELPERS).map(|_| OnceLock::new()).collect());
    *helpers
        .get(part.checked_sub(1)?)?
        .get_or_init(|| Helper::start(part))
}

type Job = (&'static (dyn Fn(usize) + Sync), usize);

struct Helper {
    /// Held by one caller at a time.
    busy: AtomicBool,
    /// Jobs posted, and jobs finished (the helper sets it to `posted` when done).
    posted: AtomicUsize,
    finished: AtomicUsize,
    job: Mutex<Option<Job>>,
    panicked: AtomicBool,
    thread: OnceLock<Thread>,
    /// The process that started the thread.
    process: u32,
}

impl Helper {
    fn start(part: usize) -> Option<&'static Helper> {
        let helper: &'static Helper = Box::leak(Box::new(Helper {
            busy: AtomicBool::new(false),
            posted: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            job: Mutex::new(None),
            panicked: AtomicBool::new(false),
            thread: OnceLock::new(),
            process: std::process::id(),
        }));
        let handle = std::thread::Builder::new()
            .name(format!("uisrnn-part-{part}"))
            .spawn(move || helper.serve())
            .ok()?;
        helper.thread.set(handle.thread().clone()).ok()?;
        Some(helper)
    }

    fn try_claim(&self) -> bool {
        self.busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    fn post(&self, work: &'static (dyn Fn(usize) + Sync), part: usize) {
        *self.job.lock().unwrap_or_else(PoisonError::into_inner) = Some((work, part));
        self.posted.fetch_add(1, Ordering::Release);
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }

    /// Spins until the posted job is done, frees the helper; whether it panicked.
    fn wait_and_release(&self) -> bool {
        let posted = self.posted.load(Ordering::Relaxed);
        let mut spins = 0u32;
        while self.finished.load(Ordering::Acquire) != posted {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(1 << 12) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        let panicked = self.panicked.swap(false, Ordering::Relaxed);
        self.busy.store(false, Ordering::Release);
        panicked
    }

    /// The helper's loop: wait for a job (spinning, then parked), run it, mark it done.
    fn serve(&self) {
        let mut seen = 0;
        let mut idle_since = Instant::now();
        let mut spins = 0u32;
        loop {
            let posted = self.posted.load(Ordering::Acquire);
            if posted == seen {
                spins = spins.wrapping_add(1);
                // The clock is read every 256 spins (a read costs as much as many).
                if !spins.is_multiple_of(256) || idle_since.elapsed() < SPIN {
                    std::hint::spin_loop();
                } else {
                    std::thread::park_timeout(Duration::from_millis(100));
                }
                continue;
            }
            seen = posted;
            let job = self
                .job
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some((work, part)) = job
                && catch_unwind(AssertUnwindSafe(|| work(part))).is_err()
            {
                self.panicked.store(true, Ordering::Relaxed);
            }
            self.finished.store(seen, Ordering::Release);
            idle_since = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_runs_once_and_borrowed_data_is_seen() {
        let data: Vec<usize> = (0..10).collect();
        for parts in [0, 1, 2, 3, 7] {
            let hits: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
            for _ in 0..100 {
                run_parts(parts, &|part| {
                    hits[part].fetch_add(data[part], Ordering::Relaxed);
                });
            }
            for (part, hit) in hits.iter().enumerate() {
                assert_eq!(hit.load(Ordering::Relaxed), 100 * part);
            }
        }
    }

    #[test]
    fn callers_on_several_threads_share_the_helpers() {
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let count = AtomicUsize::new(0);
                    for _ in 0..200 {
                        run_parts(3, &|_| {
                            count.fetch_add(1, Ordering::Relaxed);
                        });
                    }
                    assert_eq!(count.into_inner(), 600);
                });
            }
        });
    }

    #[test]
    fn a_panicking_part_is_raised_on_the_caller_and_the_helpers_recover() {
        let result = catch_unwind(|| run_parts(2, &|part| assert_ne!(part, 1, "part 1 fails")));
        assert!(result.is_err());
        let count = AtomicUsize::new(0);
        run_parts(2, &|_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(count.into_inner(), 2);
    }
}
