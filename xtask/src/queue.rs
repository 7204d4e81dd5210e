//! The job queue: boots run in parallel while the suites report in order.
//!
//! Every job of the chosen suites (a boot, or a few boots in a row with
//! work between them, like a power cut) is queued at the start, the
//! longest first so that the short ones fill the gaps at the end, and
//! `workers` threads take them in that order. The suites then report in
//! their own order, each waiting for its jobs' results by name, so the
//! output reads the same however the jobs interleaved.

use std::any::Any;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

/// What a job returns: each kind of job its own type, which the reporter
/// that waits for it names.
type Result = Box<dyn Any + Send>;
/// A queued job.
type Job = Box<dyn FnOnce() -> Result + Send>;

/// The jobs to run, in the order they will start.
#[derive(Default)]
pub struct Plan {
    jobs: Vec<(String, Job)>,
}

impl Plan {
    /// Adds a job called `name` (unique) that computes `job`.
    pub fn add<T: Send + 'static>(&mut self, name: &str, job: impl FnOnce() -> T + Send + 'static) {
        assert!(
            self.jobs.iter().all(|(other, _)| other != name),
            "two jobs called {name}"
        );
        self.jobs.push((
            name.to_string(),
            Box::new(move || Box::new(job()) as Result),
        ));
    }

    /// Starts the jobs on `workers` threads.
    pub fn start(self, workers: usize) -> Running {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                names: self.jobs.iter().map(|(name, _)| name.clone()).collect(),
                pending: self.jobs.into_iter().collect(),
                done: HashMap::new(),
            }),
            changed: Condvar::new(),
        });
        for _ in 0..workers.max(1) {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.work());
        }
        Running { shared }
    }
}

/// The queue's state, behind one lock.
struct State {
    /// Every job whose result has not been taken yet.
    names: HashSet<String>,
    /// Jobs not yet started, in order.
    pending: VecDeque<(String, Job)>,
    /// Results not yet taken by a reporter.
    done: HashMap<String, Result>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled whenever a result arrives.
    changed: Condvar,
}

impl Shared {
    /// A worker: takes jobs in order until none is left.
    fn work(&self) {
        loop {
            let Some((name, job)) = self.state.lock().unwrap().pending.pop_front() else {
                return;
            };
            let result = job();
            self.state.lock().unwrap().done.insert(name, result);
            self.changed.notify_all();
        }
    }
}

/// The queue, started.
pub struct Running {
    shared: Arc<Shared>,
}

impl Running {
    /// Waits for the job `name` and takes its result.
    ///
    /// # Panics
    /// If no such job was queued (or its result was taken already), or its
    /// result is not a `T`: both are bugs in the suites, which queue and
    /// read their own jobs.
    pub fn wait<T: 'static>(&self, name: &str) -> T {
        let mut state = self.shared.state.lock().unwrap();
        loop {
            assert!(state.names.contains(name), "no job called {name} is queued");
            if let Some(result) = state.done.remove(name) {
                state.names.remove(name);
                return *result
                    .downcast::<T>()
                    .unwrap_or_else(|_| panic!("job {name} returned another type"));
            }
            state = self.shared.changed.wait(state).unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn results_come_back_by_name_whatever_the_order() {
        let mut plan = Plan::default();
        plan.add("slow", || {
            thread::sleep(Duration::from_millis(50));
            1_u32
        });
        plan.add("fast", || String::from("done"));
        let running = plan.start(2);
        assert_eq!(running.wait::<String>("fast"), "done");
        assert_eq!(running.wait::<u32>("slow"), 1);
    }

    #[test]
    #[should_panic(expected = "two jobs called a")]
    fn names_are_unique() {
        let mut plan = Plan::default();
        plan.add("a", || ());
        plan.add("a", || ());
    }
}
