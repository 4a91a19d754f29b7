//! One module of the test binary at a time.
//!
//! The integration tests are one binary (`tests/tests/api`), one module per feature.
//! When they were one binary per file, cargo ran the binaries one after another, and
//! the tests of a file could count on no other file's tests running beside them: a
//! batch tick that reads every active queue, a comparison of a whole leaderboard with
//! MySQL, a cluster whose workers tick every queue. This gate keeps that guarantee in
//! one process: a test *enters* its module (the first path segment of its name, e.g.
//! `matchmaking_batch` for `matchmaking_batch::stale_ticket_is_skipped`) the first
//! time it calls into this crate ([`crate::test_variables`], which every app, cluster
//! and client is built from), and holds it until its thread ends. Tests of the module
//! already in run enter at once; a test of another module waits until none is left.
//!
//! The module is read from the thread's name: libtest runs each test on a thread named
//! after the test and ends the thread with the test, so a thread-local guard is
//! released exactly when the test finishes, panicking or not. Threads not named like a
//! test (the servers' own threads, tokio's workers, `--test-threads=1` on the main
//! thread) do not take part. libtest starts tests in name order, so a module's tests
//! come together and the gate only waits at the boundary between two modules.
//!
//! A module may register a clean-up with [`on_leave`] (the cluster stops its processes
//! there), run when the next module enters, before any of its tests goes on.

use std::cell::RefCell;
use std::sync::{Condvar, Mutex};

struct Gate {
    /// The module in run and how many of its tests are in progress.
    module: Option<String>,
    running: usize,
    /// Clean-ups of the module in run, for when another module enters.
    on_leave: Vec<Box<dyn FnOnce() + Send>>,
}

static GATE: Mutex<Gate> = Mutex::new(Gate {
    module: None,
    running: 0,
    on_leave: Vec::new(),
});
static CHANGED: Condvar = Condvar::new();

/// Held by a test's thread while the test runs; dropping it leaves the module.
struct Entered;

impl Drop for Entered {
    fn drop(&mut self) {
        let mut gate = GATE.lock().unwrap_or_else(|e| e.into_inner());
        gate.running -= 1;
        if gate.running == 0 {
            CHANGED.notify_all();
        }
    }
}

thread_local! {
    static ENTERED: RefCell<Option<Entered>> = const { RefCell::new(None) };
}

/// The module of the test running on this thread, if it is a test's thread.
fn current_module() -> Option<String> {
    let thread = std::thread::current();
    let (module, _) = thread.name()?.split_once("::")?;
    Some(module.to_string())
}

/// Enters the current test's module (waiting while another module's tests run), once
/// per test; a no-op on threads that are not a test's.
pub fn enter() {
    let Some(module) = current_module() else {
        return;
    };
    if ENTERED.with(|e| e.borrow().is_some()) {
        return;
    }
    let mut gate = GATE.lock().unwrap_or_else(|e| e.into_inner());
    while gate.running > 0 && gate.module.as_deref() != Some(module.as_str()) {
        gate = CHANGED.wait(gate).unwrap_or_else(|e| e.into_inner());
    }
    if gate.module.as_deref() != Some(module.as_str()) {
        // The previous module is done: its clean-ups run before this one goes on.
        for clean_up in std::mem::take(&mut gate.on_leave) {
            clean_up();
        }
        gate.module = Some(module);
    }
    gate.running += 1;
    drop(gate);
    ENTERED.with(|e| *e.borrow_mut() = Some(Entered));
}

/// Runs `clean_up` when a test of another module next enters (after every test of the
/// current module has finished). Call it from a test's thread, after [`enter`].
pub fn on_leave(clean_up: impl FnOnce() + Send + 'static) {
    GATE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .on_leave
        .push(Box::new(clean_up));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// Runs `f` on a thread named like a test of `module`.
    fn as_test(module: &str, f: impl FnOnce() + Send + 'static) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name(format!("{module}::t"))
            .spawn(f)
            .unwrap()
    }

    // One unit test: the gate is process-wide, so two such tests would share it.
    #[test]
    fn modules_take_turns_and_clean_ups_run_in_between() {
        let in_a = Arc::new(AtomicUsize::new(0));
        let cleaned = Arc::new(AtomicUsize::new(0));
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (entered_tx, entered_rx) = std::sync::mpsc::channel::<&str>();

        let (a, c, tx) = (in_a.clone(), cleaned.clone(), entered_tx.clone());
        let first = as_test("gate_a", move || {
            enter();
            a.fetch_add(1, Ordering::SeqCst);
            on_leave(move || {
                c.fetch_add(1, Ordering::SeqCst);
            });
            tx.send("a").unwrap();
            release_rx.recv().unwrap();
        });
        assert_eq!(entered_rx.recv().unwrap(), "a");

        // Another test of the same module enters while the first runs.
        let (a, tx) = (in_a.clone(), entered_tx.clone());
        as_test("gate_a", move || {
            enter();
            enter(); // a second call in one test is a no-op
            a.fetch_add(1, Ordering::SeqCst);
            tx.send("a2").unwrap();
        })
        .join()
        .unwrap();
        assert_eq!(entered_rx.recv().unwrap(), "a2");

        // A test of another module waits for the first to end.
        let c = cleaned.clone();
        let tx = entered_tx.clone();
        let other = as_test("gate_b", move || {
            enter();
            assert_eq!(c.load(Ordering::SeqCst), 1, "gate_a's clean-up ran first");
            tx.send("b").unwrap();
        });
        assert!(
            entered_rx.recv_timeout(Duration::from_millis(300)).is_err(),
            "gate_b entered while gate_a was running"
        );
        release_tx.send(()).unwrap();
        first.join().unwrap();
        assert_eq!(entered_rx.recv().unwrap(), "b");
        other.join().unwrap();
        assert_eq!(in_a.load(Ordering::SeqCst), 2);
        assert_eq!(cleaned.load(Ordering::SeqCst), 1);

        // A thread not named like a test passes straight through.
        std::thread::Builder::new()
            .name("server".into())
            .spawn(enter)
            .unwrap()
            .join()
            .unwrap();
    }
}
