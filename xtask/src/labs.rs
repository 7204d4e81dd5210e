//! The labs, as data: each one's files, handout and graded tests.
//!
//! Adding a lab: mark its solution in the sources (lab.rs says how), write
//! its handout in xtask/labs/, and add an entry to [`ALL`]; `make
//! lab-NAME` then writes it, `make grade` in the copy scores it, and
//! `make test` here checks it end to end (docs/labs.md, the teacher's
//! guide).

/// A lab.
pub struct Lab {
    /// Its name: `make lab-NAME`, and the `LAB NAME:` markers.
    pub name: &'static str,
    /// What the student builds, in a few words.
    pub title: &'static str,
    /// The handout, which the copy gets as LAB-NAME.md.
    pub handout: &'static str,
    /// The files that hold its solution; each must mark at least one.
    pub files: &'static [&'static str],
    /// What `make grade` runs, and the points.
    pub graded: &'static [Part],
}

/// A part of a lab's grade.
pub enum Part {
    /// A command on the host that must succeed (the unit tests of a
    /// crate the lab touches), worth `points`.
    Host {
        name: &'static str,
        points: u32,
        command: &'static [&'static str],
    },
    /// Checks of a test program's run at `cpus` CPUs, `points` each: each
    /// must print `PASS NAME`.
    Checks {
        program: &'static str,
        cpus: usize,
        points: u32,
        checks: &'static [&'static str],
    },
    /// A test program's whole run at `cpus` CPUs passes (its summary says
    /// 0 failed and QEMU says it passed), worth `points`.
    Program {
        program: &'static str,
        cpus: usize,
        points: u32,
    },
}

/// One graded test, as `make grade` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    pub name: String,
    pub points: u32,
    pub how: How,
}

/// What decides a [`Test`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    Host(&'static [&'static str]),
    Check {
        program: &'static str,
        cpus: usize,
        check: &'static str,
    },
    Program {
        program: &'static str,
        cpus: usize,
    },
}

impl Lab {
    /// The graded tests, one per line of `make grade`'s output.
    pub fn tests(&self) -> Vec<Test> {
        let mut tests = Vec::new();
        for part in self.graded {
            match part {
                Part::Host {
                    name,
                    points,
                    command,
                } => tests.push(Test {
                    name: name.to_string(),
                    points: *points,
                    how: How::Host(command),
                }),
                Part::Checks {
                    program,
                    cpus,
                    points,
                    checks,
                } => tests.extend(checks.iter().map(|check| Test {
                    name: format!("{program}/{check}"),
                    points: *points,
                    how: How::Check {
                        program,
                        cpus: *cpus,
                        check,
                    },
                })),
                Part::Program {
                    program,
                    cpus,
                    points,
                } => tests.push(Test {
                    name: format!("{program}-at-{cpus}-cpus"),
                    points: *points,
                    how: How::Program {
                        program,
                        cpus: *cpus,
                    },
                }),
            }
        }
        tests
    }

    /// The most points.
    pub fn max_score(&self) -> u32 {
        self.tests().iter().map(|test| test.points).sum()
    }

    /// Does the lab touch the user programs (then a copy needs its own)?
    pub fn touches_user(&self) -> bool {
        self.files.iter().any(|file| file.starts_with("user/"))
    }
}

/// Every lab.
pub const ALL: &[Lab] = &[SHM, SYNC, COW];

/// The lab named `name`.
pub fn named(name: &str) -> Option<&'static Lab> {
    ALL.iter().find(|lab| lab.name == name)
}

/// Shared memory: the table, the descriptors and the four calls.
const SHM: Lab = Lab {
    name: "shm",
    title: "shared memory: shm_open, shm_trunc, shm_map, shm_close",
    handout: include_str!("../labs/shm.md"),
    files: &[
        "kernel/shmtable/src/lib.rs",
        "kernel/src/shm.rs",
        "kernel/src/vm.rs",
    ],
    graded: &[
        Part::Host {
            name: "shmtable-unit-tests",
            points: 10,
            command: &["cargo", "test", "-q", "-p", "shmtable"],
        },
        Part::Checks {
            program: "shmtest",
            cpus: 1,
            points: 2,
            checks: &[
                "open_lowest_descriptor",
                "open_same_name_twice",
                "open_exact_names",
                "open_name_length",
                "open_bad_pointers",
                "open_unterminated_name",
                "open_descriptor_limit",
                "lookup_unrelated_processes",
                "object_outlives_creator",
                "trunc_rounds_up_zeroed",
                "trunc_bad_sizes",
                "trunc_only_once",
                "trunc_race",
                "map_fixed_address",
                "map_bad_flags",
                "map_unsized",
                "map_bad_va",
                "map_twice",
                "fork_shares_memory",
                "fork_copies_descriptors",
                "readonly_write_killed",
                "use_after_close_killed",
                "unmapped_window_killed",
                "exec_closes_descriptors",
                "exec_failed_keeps_descriptors",
                "exit_closes_descriptors",
                "bad_descriptors",
                "library_wrapper",
                "long_loop",
                "concurrent_processes",
                "table_limit",
                "slots_free_at_end",
                "no_leaks",
            ],
        },
        Part::Program {
            program: "shmtest",
            cpus: 2,
            points: 10,
        },
        Part::Program {
            program: "shmtest",
            cpus: 4,
            points: 10,
        },
    ],
};

/// Waiting on shared memory: shm_wait and shm_wake in the kernel, and the
/// mutex and semaphore of ulib::sync on top.
const SYNC: Lab = Lab {
    name: "sync",
    title: "waiting on shared memory: shm_wait, shm_wake, a mutex and a semaphore",
    handout: include_str!("../labs/sync.md"),
    files: &["kernel/src/shm.rs", "user/src/sync.rs"],
    graded: &[
        Part::Checks {
            program: "shmtest",
            cpus: 1,
            points: 2,
            checks: &[
                "wait_wrong_value",
                "wake_wakes_waiter",
                "wait_wake_bad_arguments",
            ],
        },
        Part::Checks {
            program: "synctest",
            cpus: 1,
            points: 4,
            checks: &[
                "wait_wrong_value_returns",
                "wake_nobody_returns_zero",
                "waiter_woken_by_other_process",
                "wake_count_limits",
                "wait_read_only_mapping",
                "bad_addresses_refused",
                "killed_waiter_leaves_nothing",
                "closed_object_while_waiting",
                "waiter_table_full",
                "mutex_exact_count",
                "semaphore_bounded_buffer",
                "channel_stream",
                "no_leaks",
            ],
        },
        Part::Program {
            program: "synctest",
            cpus: 2,
            points: 10,
        },
        Part::Program {
            program: "synctest",
            cpus: 4,
            points: 10,
        },
    ],
};

/// Copy-on-write fork: reference counts, sharing fork, the write fault,
/// and the kernel's own writes into shared pages.
const COW: Lab = Lab {
    name: "cow",
    title: "copy-on-write fork",
    handout: include_str!("../labs/cow.md"),
    files: &[
        "kernel/src/kalloc.rs",
        "kernel/src/ktest.rs",
        "kernel/src/trap.rs",
        "kernel/src/vm.rs",
    ],
    graded: &[
        Part::Checks {
            program: "cowtest",
            cpus: 1,
            points: 4,
            checks: &[
                "fork_allocates_few_pages",
                "fork_more_than_free_memory",
                "parent_and_child_write",
                "children_write_parent_reads",
                "pipe_read_into_shared_page",
                "file_read_into_shared_page",
                "exec_after_fork",
                "fork_storm",
                "shared_memory_stays_shared",
                "out_of_memory_kills_writer",
                "out_of_memory_fails_read",
                "no_leaks",
            ],
        },
        Part::Program {
            program: "cowtest",
            cpus: 2,
            points: 10,
        },
        Part::Program {
            program: "cowtest",
            cpus: 4,
            points: 10,
        },
        Part::Program {
            program: "usertests",
            cpus: 2,
            points: 10,
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_are_unique_and_points_add_up() {
        for lab in ALL {
            let tests = lab.tests();
            let mut names: Vec<&str> = tests.iter().map(|test| test.name.as_str()).collect();
            names.sort();
            names.dedup();
            assert_eq!(
                names.len(),
                tests.len(),
                "{}: two tests with one name",
                lab.name
            );
            assert!(lab.max_score() > 0);
            assert!(!lab.files.is_empty());
        }
        assert_eq!(SHM.tests()[1].name, "shmtest/open_lowest_descriptor");
        assert_eq!(SHM.max_score(), 10 + 33 * 2 + 10 + 10);
    }
}
