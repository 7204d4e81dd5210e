//! User programs built into the kernel image.
//!
//! Scaffolding until the file system exists: `exec` looks programs up here
//! by name. The Makefile builds the user programs before the kernel, and
//! `include_bytes!` copies each ELF file into the kernel's rodata.

/// Where cargo puts the user programs (see the Makefile).
macro_rules! user_program {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/user/x86_64-xv6/release/",
                $name
            ))
            .as_slice(),
        )
    };
}

static PROGRAMS: &[(&str, &[u8])] = &[user_program!("init"), user_program!("proctest")];

/// The ELF file of the program called `name` (a leading "/" is ignored).
pub fn find(name: &[u8]) -> Option<&'static [u8]> {
    let name = name.strip_prefix(b"/").unwrap_or(name);
    PROGRAMS
        .iter()
        .find(|(program, _)| program.as_bytes() == name)
        .map(|(_, file)| *file)
}
