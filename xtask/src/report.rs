//! The tally: every check prints `PASS name` or `FAIL name: why`, and the
//! run ends with `N passed, M failed`.

/// The checks so far.
#[derive(Debug, Default)]
pub struct Report {
    pub passed: usize,
    pub failed: usize,
}

impl Report {
    pub fn pass(&mut self, name: &str) {
        println!("PASS {name}");
        self.passed += 1;
    }

    pub fn fail(&mut self, name: &str, why: &str) {
        println!("FAIL {name}: {why}");
        self.failed += 1;
    }

    /// Records `result` as the check `name`.
    pub fn check(&mut self, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => self.pass(name),
            Err(why) => self.fail(name, &why),
        }
    }

    /// Counts a line the OS printed, `PASS name` or `FAIL name: why`, as
    /// a check of its own.
    pub fn verdict_line(&mut self, line: &str) {
        println!("{line}");
        if line.starts_with("PASS ") {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }

    /// A section heading.
    pub fn heading(&self, text: &str) {
        println!("== {text}");
    }

    /// A note under a heading.
    pub fn note(&self, text: &str) {
        println!("  {text}");
    }

    /// The closing line.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }
}
