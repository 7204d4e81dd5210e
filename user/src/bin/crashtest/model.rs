//! The crash test's model: a workload of file-system calls made from a
//! seed, and what the disk must hold after each of them.
//!
//! The crash test (xtask/src/crash.rs) checks the promise of the kernel's
//! write-ahead log (kernel/src/log.rs): every file-system system call is
//! atomic on disk, and one that has returned is on disk. `crashtest`'s two
//! modes share this model:
//!
//! - `crashtest run` makes the calls, one after another in one process,
//!   and prints a line before each call and one after it; the harness kills
//!   QEMU at a moment of its choosing, as a power cut would;
//! - `crashtest check` runs on the image after the cut (the kernel has
//!   recovered the log at mount) and compares what is on disk with the
//!   state the model reaches after each prefix of the calls.
//!
//! # Steps
//!
//! The unit is one system call, a *step*, numbered from 1; "the state
//! after step 0" is the disk before the workload. A step is at most one
//! log operation (a read is none; a call that fails commits nothing), so
//! the disk after a cut must equal the state after some step: the last
//! one whose return was printed, or the one after it (it may have
//! committed before the cut stopped it printing). A higher-level
//! action such as "create a file of 5000 bytes" is several steps (open,
//! two writes, close), and a cut may land between them; that is no
//! inconsistency, and the model has a state there too.
//!
//! A `write` is one log operation only if it is no larger than the piece
//! the kernel writes per operation (`abi::fs::WRITE_PIECE`, used by
//! kernel/src/file.rs); [`MAX_WRITE`] is that size, and no step writes
//! more. A larger `write` would be several
//! operations, and a cut could keep half of it, as the log allows.
//!
//! # The workload
//!
//! [`Workload`] plans actions from a pseudo-random generator and the
//! model's current state, so the same seed makes the same calls in both
//! programs: making `/c`, then creating files, appending to them (open,
//! read to the end, write), overwriting them in place, truncating them
//! with `O_TRUNC`, growing them past the `NDIRECT` direct blocks into the
//! indirect block, renaming them (link, then unlink), giving them second
//! names, removing them, and making and removing directories. Some calls
//! fail on purpose, and the model predicts that too: removing a missing
//! name or a directory that is not empty, making a name that exists,
//! linking a directory, opening a missing file or a directory for writing.
//! Everything happens under [`TOP`], and the workload keeps its files
//! within [`BLOCK_BUDGET`] blocks, well inside the free space of the image.
//!
//! The bytes a write puts at offset `o` in step `s` are [`pattern`]`(s,
//! o)`, so every byte on disk says which step wrote it, and a block that
//! kept old contents or zeros is caught.
//!
//! # The state
//!
//! [`Tree`] holds every name under `/c` with the inode it names (the
//! model's own inode numbers), each inode's kind and contents, and the one
//! file the workload has open, if any. [`Tree::apply`] does to the model
//! what the kernel's system call does to the disk and says what the call
//! returns. [`Tree::compare`] compares the model with a [`DiskView`] of
//! what `crashtest check` found: the same names, kinds and contents, the same
//! link counts, and names that share an inode in the model sharing one on
//! disk.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use abi::fcntl::{O_CREATE, O_RDWR, O_TRUNC, O_WRONLY};
use abi::fs::{BSIZE, NDIRECT, WRITE_PIECE};
use abi::splitmix::{SplitMix, mix};

use ulib::string::atoi;

/// The seed `make test` runs the workload with.
pub const DEFAULT_SEED: u64 = 1;
/// The steps `make test` runs.
pub const DEFAULT_STEPS: usize = 500;

/// The directory the workload works in.
pub const TOP: &str = "/c";

/// The largest write one step makes: the kernel's piece per log operation
/// (see the module doc), so that every write is one operation.
pub const MAX_WRITE: usize = WRITE_PIECE;

/// How much one read asks for: more than any file holds, so that one read
/// reaches the end.
pub const READ_ALL: usize = 64 * 1024;

/// The blocks the workload's files and directories may use (see
/// [`Tree::blocks`]); the image has about 400 free.
pub const BLOCK_BUDGET: usize = 250;
/// The inodes the workload may use; the image has about 160 free.
const INODE_BUDGET: usize = 40;
/// The largest file the workload makes, in bytes: past the direct blocks
/// and far enough into the indirect block, yet below [`READ_ALL`].
const MAX_SIZE: usize = 40 * BSIZE;
/// How deep directories nest below [`TOP`].
const MAX_DEPTH: usize = 2;

/// Reads the optional `SEED STEPS` arguments that follow `crashtest`'s
/// mode; the defaults are `make test`'s. Returns `None` for a malformed or
/// extra argument.
pub fn parse_args(args: &[&[u8]]) -> Option<(u64, usize)> {
    let number = |arg: &[u8]| {
        let n = atoi(arg);
        (n > 0 && arg.iter().all(u8::is_ascii_digit)).then_some(n as usize)
    };
    match args {
        [] => Some((DEFAULT_SEED, DEFAULT_STEPS)),
        [seed, steps] => Some((number(seed)? as u64, number(steps)?)),
        _ => None,
    }
}

/// The byte that step `step` writes at `offset` of a file: a hash of the
/// two, so that a block another step wrote (or zeros, or stale contents)
/// differs from it at all but a few bytes.
pub fn pattern(step: usize, offset: usize) -> u8 {
    // splitmix64's finaliser spreads every input bit over the word.
    mix(((step as u64) << 32) ^ offset as u64) as u8
}

// ---------------------------------------------------------------------------
// The calls.

/// One system call of the workload. Reads and writes use the one file the
/// workload has open; their offset is the file's offset when the step
/// runs, which the model fills in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Mkdir(String),
    Open(String, u32),
    Write { len: usize, offset: usize },
    Read { len: usize, offset: usize },
    Close,
    Link(String, String),
    Unlink(String),
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Mkdir(path) => write!(f, "mkdir {path}"),
            Call::Open(path, flags) => {
                write!(f, "open {path} ")?;
                let names = [
                    (O_CREATE, "O_CREATE"),
                    (O_WRONLY, "O_WRONLY"),
                    (O_RDWR, "O_RDWR"),
                    (O_TRUNC, "O_TRUNC"),
                ];
                let mut first = true;
                for (flag, name) in names {
                    if flags & flag != 0 {
                        write!(f, "{}{name}", if first { "" } else { "|" })?;
                        first = false;
                    }
                }
                if first {
                    f.write_str("O_RDONLY")?;
                }
                Ok(())
            }
            Call::Write { len, offset } => write!(f, "write {len} bytes at {offset}"),
            Call::Read { len, offset } => write!(f, "read {len} bytes at {offset}"),
            Call::Close => f.write_str("close"),
            Call::Link(old, new) => write!(f, "link {old} {new}"),
            Call::Unlink(path) => write!(f, "unlink {path}"),
        }
    }
}

/// What a call must return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this number.
    Value(isize),
    /// A new file descriptor: any number from 0 up.
    Descriptor,
    /// Failure, which every system call reports as -1.
    Failure,
}

impl Expect {
    /// Does `got` meet this expectation?
    pub fn accepts(self, got: isize) -> bool {
        match self {
            Expect::Value(value) => got == value,
            Expect::Descriptor => got >= 0,
            Expect::Failure => got == -1,
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Value(value) => write!(f, "{value}"),
            Expect::Descriptor => f.write_str("a descriptor"),
            Expect::Failure => f.write_str("-1"),
        }
    }
}

// ---------------------------------------------------------------------------
// The state.

/// An inode of the model.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Dir,
    File(Vec<u8>),
}

/// The workload's open file: which inode, and where the next read or write
/// starts.
struct OpenFile {
    inode: usize,
    offset: usize,
}

/// What the disk holds under [`TOP`] after some steps, by the model. (Plain
/// vectors, searched from end to end, keep the program small; the tree
/// never holds more than a few dozen names.)
pub struct Tree {
    /// Every name, as a full path from the root (`/c`, `/c/d3/f7`), with
    /// the inode it names: an index into `nodes`.
    names: Vec<(String, usize)>,
    /// The model's inodes, by number; `None` once the last name is gone.
    nodes: Vec<Option<Node>>,
    open: Option<OpenFile>,
}

/// The directory part of `path`: `/c` for `/c/f1`, and "" (the root) for
/// `/c`.
fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The names the planner chooses among.
#[derive(Clone, Copy)]
enum Pick {
    File,
    Dir,
    /// A directory below [`TOP`] with nothing in it, which can go.
    EmptyDir,
    /// A directory with something in it, which cannot.
    FullDir,
    /// A directory shallow enough to hold another.
    ShallowDir,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            names: Vec::new(),
            nodes: Vec::new(),
            open: None,
        }
    }

    fn inode(&self, path: &str) -> Option<usize> {
        self.names
            .iter()
            .find(|(name, _)| name == path)
            .map(|&(_, inode)| inode)
    }

    fn node(&self, path: &str) -> Option<&Node> {
        self.inode(path)
            .and_then(|inode| self.nodes[inode].as_ref())
    }

    fn exists(&self, path: &str) -> bool {
        self.inode(path).is_some()
    }

    /// Is `path` a directory? The root ("") always is.
    fn is_dir(&self, path: &str) -> bool {
        path.is_empty() || self.node(path) == Some(&Node::Dir)
    }

    /// The names directly inside directory `dir`.
    fn children<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a str> {
        self.names
            .iter()
            .map(|(path, _)| path.as_str())
            .filter(move |path| parent(path) == dir)
    }

    /// Is `path` one of the names `which` picks?
    fn is(&self, path: &str, which: Pick) -> bool {
        let dir = self.is_dir(path);
        match which {
            Pick::File => !dir,
            Pick::Dir => dir,
            Pick::EmptyDir => dir && path != TOP && self.children(path).next().is_none(),
            Pick::FullDir => dir && self.children(path).next().is_some(),
            Pick::ShallowDir => dir && path.matches('/').count() <= MAX_DEPTH,
        }
    }

    /// How many names inode `inode` has.
    fn names_of(&self, inode: usize) -> usize {
        self.names.iter().filter(|&&(_, i)| i == inode).count()
    }

    /// The link count the kernel keeps for the inode `path` names: one per
    /// name for a file; for a directory, its name and each subdirectory's
    /// `..` (its own `.` is not counted).
    fn nlink(&self, path: &str, inode: usize) -> usize {
        if self.is_dir(path) {
            1 + self.children(path).filter(|c| self.is_dir(c)).count()
        } else {
            self.names_of(inode)
        }
    }

    /// A generous count of the disk blocks the workload's inodes use: a
    /// file's data blocks and its indirect block, and two blocks for each
    /// directory (a directory never shrinks, and `/c` may need a second).
    pub fn blocks(&self) -> usize {
        self.nodes
            .iter()
            .flatten()
            .map(|node| match node {
                Node::Dir => 2,
                Node::File(data) => file_blocks(data.len()),
            })
            .sum()
    }

    /// The inodes the workload uses.
    fn inodes(&self) -> usize {
        self.nodes.iter().flatten().count()
    }

    /// Does to the model what `call` does to the disk, by the rules of
    /// kernel/src/sysfile.rs, and says what it returns. Fills in the offset
    /// of a read or a write.
    pub fn apply(&mut self, step: usize, call: &mut Call) -> Expect {
        match call {
            Call::Mkdir(path) => {
                if !self.is_dir(parent(path)) || self.exists(path) {
                    return Expect::Failure;
                }
                self.make(path, Node::Dir);
                Expect::Value(0)
            }
            Call::Open(path, flags) => self.open(path, *flags),
            Call::Write { len, offset } => {
                let (file, at) = self.open_file();
                *offset = at;
                let end = at + *len;
                if file.len() < end {
                    file.resize(end, 0);
                }
                fill(&mut file[at..end], step, at);
                self.open.as_mut().expect("a file is open").offset = end;
                Expect::Value(*len as isize)
            }
            Call::Read { len, offset } => {
                let (file, at) = self.open_file();
                *offset = at;
                let n = (*len).min(file.len().saturating_sub(at));
                self.open.as_mut().expect("a file is open").offset = at + n;
                Expect::Value(n as isize)
            }
            Call::Close => {
                self.open = None;
                Expect::Value(0)
            }
            Call::Link(old, new) => match self.inode(old) {
                Some(inode)
                    if !self.is_dir(old) && self.is_dir(parent(new)) && !self.exists(new) =>
                {
                    self.names.push((new.clone(), inode));
                    Expect::Value(0)
                }
                _ => Expect::Failure,
            },
            Call::Unlink(path) => {
                let Some(at) = self.names.iter().position(|(name, _)| name == path) else {
                    return Expect::Failure;
                };
                if self.is(path, Pick::FullDir) {
                    return Expect::Failure;
                }
                let (_, inode) = self.names.remove(at);
                // The workload never removes the name of the file it has
                // open, so the last name going frees the inode.
                if self.names_of(inode) == 0 {
                    self.nodes[inode] = None;
                }
                Expect::Value(0)
            }
        }
    }

    /// A new inode holding `node`, named `path`.
    fn make(&mut self, path: &str, node: Node) -> usize {
        let inode = self.nodes.len();
        self.nodes.push(Some(node));
        self.names.push((String::from(path), inode));
        inode
    }

    /// `open(path, flags)`, as kernel/src/sysfile.rs does it: `O_CREATE`
    /// makes a missing file (in an existing directory) or takes an existing
    /// file as it is; a directory cannot be opened for writing; `O_TRUNC`
    /// empties a file.
    fn open(&mut self, path: &str, flags: u32) -> Expect {
        let inode = match self.inode(path) {
            Some(inode) => inode,
            None if flags & O_CREATE != 0 && self.is_dir(parent(path)) => {
                self.make(path, Node::File(Vec::new()))
            }
            None => return Expect::Failure,
        };
        match self.nodes[inode].as_mut() {
            Some(Node::Dir) if flags & (O_CREATE | O_WRONLY | O_RDWR) != 0 => {
                return Expect::Failure;
            }
            Some(Node::File(data)) if flags & O_TRUNC != 0 => data.clear(),
            _ => {}
        }
        self.open = Some(OpenFile { inode, offset: 0 });
        Expect::Descriptor
    }

    /// The open file's contents and offset.
    fn open_file(&mut self) -> (&mut Vec<u8>, usize) {
        let open = self
            .open
            .as_ref()
            .expect("the workload reads and writes only a file it has open");
        match self.nodes[open.inode].as_mut() {
            Some(Node::File(data)) => (data, open.offset),
            _ => panic!("the workload's open file is not a file"),
        }
    }

    /// The bytes the open file holds from `offset`, `len` of them at most.
    fn open_bytes(&mut self, offset: usize, len: usize) -> Vec<u8> {
        let (data, _) = self.open_file();
        let end = (offset + len).min(data.len());
        data[offset.min(end)..end].to_vec()
    }

    /// Does the disk have exactly the model's names (whatever they hold)?
    pub fn has_names_of(&self, disk: &DiskView) -> bool {
        self.names.len() == disk.len() && disk.iter().all(|(path, _)| self.exists(path))
    }

    /// Compares the model with what is on disk. Returns the first
    /// difference, in words.
    pub fn compare(&self, disk: &DiskView) -> Result<(), String> {
        if let Some((path, _)) = disk.iter().find(|(path, _)| !self.exists(path)) {
            return Err(format!("{path} is on disk but not in the model"));
        }
        // Which inode on disk each model inode is: names that share an
        // inode in the model must share one on disk, and the other way
        // round.
        let mut same: Vec<(usize, u32)> = Vec::new();
        for (path, inode) in &self.names {
            let Some((_, seen)) = disk.iter().find(|(name, _)| name == path) else {
                return Err(format!("{path} is in the model but not on disk"));
            };
            match (&self.nodes[*inode], &seen.contents) {
                (Some(Node::Dir), Contents::Dir) => {}
                (Some(Node::File(data)), Contents::File(found)) => {
                    if data.len() != found.len() {
                        return Err(format!(
                            "{path} holds {} bytes, not {}",
                            found.len(),
                            data.len()
                        ));
                    }
                    if let Some(at) = data.iter().zip(found).position(|(a, b)| a != b) {
                        return Err(format!("{path} differs at byte {at}"));
                    }
                }
                (_, Contents::File(_)) => return Err(format!("{path} is a file, not a directory")),
                (_, Contents::Dir) => return Err(format!("{path} is a directory, not a file")),
            }
            let nlink = self.nlink(path, *inode);
            if usize::from(seen.nlink) != nlink {
                return Err(format!("{path} has nlink {}, not {nlink}", seen.nlink));
            }
            let paired = same
                .iter()
                .find(|&&(model, disk)| model == *inode || disk == seen.ino);
            match paired {
                None => same.push((*inode, seen.ino)),
                Some(&pair) if pair == (*inode, seen.ino) => {}
                Some(_) => {
                    return Err(format!(
                        "{path} is inode {}, which does not match the names it shares an inode with",
                        seen.ino
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Fills `bytes`, which sit at `offset` in a file, as step `step` writes
/// them.
fn fill(bytes: &mut [u8], step: usize, offset: usize) {
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = pattern(step, offset + i);
    }
}

/// The blocks a file of `size` bytes occupies: its data blocks, and the
/// indirect block once it has more than `NDIRECT`.
fn file_blocks(size: usize) -> usize {
    let data = size.div_ceil(BSIZE);
    data + usize::from(data > NDIRECT)
}

/// What `crashtest check` found on disk under [`TOP`]: each name, as a full
/// path, and what it names.
pub type DiskView = Vec<(String, Seen)>;

/// One name on disk, as `fstat` and `read` see it.
pub struct Seen {
    /// The inode number.
    pub ino: u32,
    pub nlink: u16,
    pub contents: Contents,
}

/// A directory (whose names are in the [`DiskView`] themselves), or a
/// file's bytes.
pub enum Contents {
    Dir,
    File(Vec<u8>),
}

// ---------------------------------------------------------------------------
// The workload.

/// One step: its number (from 1), the call, what it must return, and its
/// bytes: what a write writes, or what a read must read.
pub struct Step {
    pub number: usize,
    pub call: Call,
    pub expect: Expect,
    pub bytes: Vec<u8>,
}

/// The kinds of action the planner chooses from, with their weights.
#[derive(Clone, Copy)]
enum Action {
    Create,
    Append,
    Overwrite,
    Truncate,
    Grow,
    Rename,
    Link,
    Remove,
    MakeDir,
    RemoveDir,
    Fail,
}

const ACTIONS: &[(Action, usize)] = &[
    (Action::Create, 6),
    (Action::Append, 4),
    (Action::Overwrite, 2),
    (Action::Truncate, 2),
    (Action::Grow, 2),
    (Action::Rename, 3),
    (Action::Link, 2),
    (Action::Remove, 3),
    (Action::MakeDir, 2),
    (Action::RemoveDir, 1),
    (Action::Fail, 3),
];

/// The calls of a workload, step by step, and the model's state after
/// each.
pub struct Workload {
    rng: SplitMix,
    tree: Tree,
    /// The calls of the action under way, not yet made.
    planned: VecDeque<Call>,
    /// Steps taken.
    steps: usize,
    /// Names made so far: each new name has a number of its own.
    names_made: usize,
}

impl Workload {
    pub fn new(seed: u64) -> Workload {
        Workload {
            rng: SplitMix(seed),
            tree: Tree::new(),
            planned: VecDeque::new(),
            steps: 0,
            names_made: 0,
        }
    }

    /// The model's state after the steps taken so far.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Takes the next step: plans it, applies it to the model, and returns
    /// it.
    pub fn step(&mut self) -> Step {
        while self.planned.is_empty() {
            self.plan();
        }
        self.steps += 1;
        let number = self.steps;
        let mut call = self.planned.pop_front().expect("planned above");
        let expect = self.tree.apply(number, &mut call);
        let bytes = match (&call, expect) {
            (&Call::Write { len, offset }, _) => {
                let mut bytes = vec![0; len];
                fill(&mut bytes, number, offset);
                bytes
            }
            (&Call::Read { offset, .. }, Expect::Value(n)) => {
                self.tree.open_bytes(offset, n as usize)
            }
            _ => Vec::new(),
        };
        Step {
            number,
            call,
            expect,
            bytes,
        }
    }

    /// One of the names `which` picks, at random; `None` if there is none.
    fn pick(&mut self, which: Pick) -> Option<String> {
        let tree = &self.tree;
        let count = tree
            .names
            .iter()
            .filter(|(path, _)| tree.is(path, which))
            .count();
        if count == 0 {
            return None;
        }
        let n = self.rng.below(count);
        tree.names
            .iter()
            .filter(|(path, _)| tree.is(path, which))
            .nth(n)
            .map(|(path, _)| path.clone())
    }

    /// A name no earlier step made, inside `dir`: `dir/f12` for a file,
    /// `dir/d13` for a directory, `dir/x14` for a name that must not
    /// exist.
    fn fresh(&mut self, dir: &str, kind: char) -> String {
        self.names_made += 1;
        format!("{dir}/{kind}{}", self.names_made)
    }

    /// Plans the next action, as calls in `planned`. Its choices depend
    /// only on the generator and the model's state, so every run with the
    /// same seed plans the same calls. Returns `None`, having planned
    /// nothing, when the action chosen has nothing to act on or no room;
    /// the caller then plans again.
    fn plan(&mut self) -> Option<()> {
        if !self.tree.exists(TOP) {
            self.planned.push_back(Call::Mkdir(String::from(TOP)));
            return Some(());
        }
        let total: usize = ACTIONS.iter().map(|&(_, weight)| weight).sum();
        let mut choice = self.rng.below(total);
        let mut action = Action::Fail;
        for &(candidate, weight) in ACTIONS {
            if choice < weight {
                action = candidate;
                break;
            }
            choice -= weight;
        }
        // Near the budget, actions that use more space remove a file
        // instead.
        let blocks = self.tree.blocks();
        let full =
            blocks + 2 * MAX_WRITE / BSIZE > BLOCK_BUDGET || self.tree.inodes() >= INODE_BUDGET;
        if full && matches!(action, Action::Create | Action::Grow | Action::MakeDir) {
            action = Action::Remove;
        }
        match action {
            Action::Create => {
                let dir = self.pick(Pick::Dir)?;
                let path = self.fresh(&dir, 'f');
                let size = match self.rng.below(8) {
                    0 => 0,
                    1..=4 => self.rng.between(1, BSIZE),
                    _ => self.rng.between(BSIZE, 6 * BSIZE),
                };
                self.planned
                    .push_back(Call::Open(path, O_CREATE | O_WRONLY));
                self.plan_writes(size, false);
                self.planned.push_back(Call::Close);
            }
            Action::Append => {
                let path = self.pick(Pick::File)?;
                let more = self.rng.between(1, 2 * MAX_WRITE);
                if full || self.size_of(&path) + more > MAX_SIZE {
                    return None;
                }
                self.plan_read_to_end(path);
                self.plan_writes(more, false);
                self.planned.push_back(Call::Close);
            }
            Action::Overwrite => {
                let path = self.pick(Pick::File)?;
                let len = self.rng.between(1, MAX_WRITE);
                if full && len > self.size_of(&path) {
                    return None;
                }
                self.planned.push_back(Call::Open(path, O_WRONLY));
                self.planned.push_back(Call::Write { len, offset: 0 });
                self.planned.push_back(Call::Close);
            }
            Action::Truncate => {
                let path = self.pick(Pick::File)?;
                let create = if self.rng.below(2) == 0 { 0 } else { O_CREATE };
                let size = self.rng.between(0, 2 * BSIZE);
                self.planned
                    .push_back(Call::Open(path, create | O_WRONLY | O_TRUNC));
                self.plan_writes(size, false);
                self.planned.push_back(Call::Close);
            }
            Action::Grow => {
                let path = self.pick(Pick::File)?;
                let size = self.size_of(&path);
                let target = (NDIRECT + self.rng.between(1, 24)) * BSIZE + self.rng.below(BSIZE);
                if target <= size
                    || target > MAX_SIZE
                    || blocks + file_blocks(target) - file_blocks(size) > BLOCK_BUDGET
                {
                    return None;
                }
                self.plan_read_to_end(path);
                self.plan_writes(target - size, true);
                self.planned.push_back(Call::Close);
            }
            Action::Rename | Action::Link => {
                let old = self.pick(Pick::File)?;
                let dir = self.pick(Pick::Dir)?;
                let new = self.fresh(&dir, 'f');
                self.planned.push_back(Call::Link(old.clone(), new));
                if matches!(action, Action::Rename) {
                    self.planned.push_back(Call::Unlink(old));
                }
            }
            Action::Remove => {
                let path = self.pick(Pick::File)?;
                self.planned.push_back(Call::Unlink(path));
            }
            Action::MakeDir => {
                let dir = self.pick(Pick::ShallowDir)?;
                let path = self.fresh(&dir, 'd');
                self.planned.push_back(Call::Mkdir(path));
            }
            Action::RemoveDir => {
                let path = self.pick(Pick::EmptyDir)?;
                self.planned.push_back(Call::Unlink(path));
            }
            Action::Fail => self.plan_failure()?,
        }
        Some(())
    }

    /// The size of the file at `path`.
    fn size_of(&self, path: &str) -> usize {
        match self.tree.node(path) {
            Some(Node::File(data)) => data.len(),
            _ => 0,
        }
    }

    /// Plans opening `path` for reading and writing and reading it to the
    /// end, where the next write appends (xv6 has no `O_APPEND` or
    /// `lseek`; a read and a write share the file's offset).
    fn plan_read_to_end(&mut self, path: String) {
        self.planned.push_back(Call::Open(path, O_RDWR));
        self.planned.push_back(Call::Read {
            len: READ_ALL,
            offset: 0,
        });
    }

    /// Plans writes of `size` bytes in all to the open file: of the
    /// largest size, [`MAX_WRITE`], when `whole` (to grow a file quickly),
    /// else of random sizes up to it.
    fn plan_writes(&mut self, size: usize, whole: bool) {
        let mut left = size;
        while left > 0 {
            let len = if whole {
                MAX_WRITE
            } else {
                self.rng.between(1, MAX_WRITE)
            };
            let len = len.min(left);
            self.planned.push_back(Call::Write { len, offset: 0 });
            left -= len;
        }
    }

    /// Plans one call that must fail, and so change nothing.
    fn plan_failure(&mut self) -> Option<()> {
        let dir = self.pick(Pick::Dir)?;
        let missing = self.fresh(&dir, 'x');
        let call = match self.rng.below(8) {
            0 => Call::Unlink(missing),
            1 => Call::Mkdir(self.pick(Pick::File).unwrap_or(dir)),
            2 => Call::Link(self.pick(Pick::File)?, dir),
            // A directory cannot have a second name.
            3 => Call::Link(dir, missing),
            4 => Call::Open(missing, O_RDWR),
            5 => Call::Open(dir, O_WRONLY),
            6 => Call::Unlink(self.pick(Pick::FullDir)?),
            // In a directory that does not exist.
            _ => Call::Open(format!("{missing}/f"), O_CREATE | O_WRONLY),
        };
        self.planned.push_back(call);
        Some(())
    }
}
