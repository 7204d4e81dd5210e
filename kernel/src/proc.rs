//! Processes: the process table, the scheduler, sleep and wakeup, fork,
//! exit, wait and kill.
//!
//! The table has `NPROC` slots. A slot moves through xv6's states:
//!
//! ```text
//!   Unused --alloc--> Used --(fork/userinit done)--> Runnable <--> Running
//!                                                       ^            |
//!                                         wakeup/kill   |  sleep     v
//!                                                    Sleeping <------+
//!   Running --exit--> Zombie --(parent's wait)--> Unused
//! ```
//!
//! Each CPU runs `scheduler`, which picks a Runnable process and switches to
//! its kernel stack with `swtch` (swtch.S). The process runs until it gives
//! the CPU back through `sched` (from `yield_cpu` on a timer tick, `sleep`
//! or `exit`), which switches back to the scheduler's stack. A CPU with
//! nothing to run halts (`idle`); whoever makes a process Runnable wakes
//! one halted CPU with an interrupt (`kick_idle_cpu`), so a woken process
//! starts at once instead of at the next timer tick.
//!
//! ## Locking
//!
//! - `Proc::lock` guards the fields in [`Shared`]: state, channel, exit
//!   status, name and page table. It is held across `swtch` in both
//!   directions: the scheduler takes it before switching to a process,
//!   and the process releases it when it resumes (in `forkret` the first
//!   time); a process takes it before switching to the scheduler, which
//!   releases it. This is what makes sleep/wakeup free of lost wake-ups:
//!   `sleep` takes the process lock before releasing the condition's
//!   lock, and `wakeup` needs the process lock to see the sleeper.
//! - The killed flag, `Proc::killed`, is an atomic, because every return
//!   to user mode reads it (trap.rs) and a lock there would cost every
//!   system call. `kill` sets it with the process lock held, so that it
//!   wakes a sleeper in the same step; a sleeper reads it when it wakes.
//! - The pid, `Proc::pid`, is an atomic too, written only with the process
//!   lock held (when the slot is taken and when it is freed), so that under
//!   the lock it agrees with the state. It never changes while the process
//!   exists, so the process reads its own without the lock (getpid).
//! - `WAIT_LOCK` guards every process's parent (it is the table of parents)
//!   and is taken before any process lock, so a parent in `wait` never
//!   misses a child's `exit`.
//! - [`Private`] fields belong to the process itself: only its own kernel
//!   thread touches them, except while the slot is `Used` (being created by
//!   `alloc_process`'s caller) or `Zombie` (being freed by the parent).
//!
//! Lock order: `wakeup` takes every process lock, and it is called with
//! other locks held (a pipe's, the log's, a sleep lock's, the disk
//! queue's, `WAIT_LOCK`). So a process lock comes last: code holding one
//! takes no other lock, except the page allocator's (which never calls
//! `wakeup`). `fork` therefore copies files and the current directory into
//! the new, still `Used` process without holding its lock.
//!
//! ## The registers a process owns
//!
//! A process's general-purpose registers live in its trap frame while it is
//! in the kernel. Its x87/SSE/AVX registers (arch/x86_64/fpu.rs) stay in
//! the CPU, since the soft-float kernel never uses them, and are switched
//! *eagerly*, in this file only:
//!
//! - `sched` saves them into the process's [`FpuState`] just before the
//!   process gives up the CPU, and loads them back right after it gets a
//!   CPU again (maybe another one); a new process loads its state the
//!   first time it runs, in `forkret`;
//! - `alloc_process` gives every new slot the clean initial state, `fork`
//!   overwrites it with the parent's live registers, and `exec` resets it
//!   to the initial state (exec.rs).
//!
//! The registers and the saved area only ever change together with
//! interrupts off (in `sched`, before `forkret` lets its lock go, and in
//! `reset_fpu`): a timer interrupt in between would make `sched` save one
//! over the other.
//!
//! Eager switching costs one save and one restore per switch whether or
//! not the process used the registers; fpu.rs says why that beats lazy
//! switching through `#NM` here. Either way, no process ever sees a value
//! another process left in a register.
//!
//! Every slot has its own kernel stack at a fixed address in `KSTACKS`,
//! above an unmapped guard page, mapped once at boot: a kernel stack
//! overflow faults (reported through the double-fault stack) instead of
//! overwriting a neighbour.

use core::arch::global_asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

use shmtable::Descriptors;
use spin::Once;
use x86::bits64::paging::PTFlags;

#[cfg(feature = "ktest")]
use crate::arch::debug_exit::{self, QemuExit};
use crate::arch::fpu::FpuState;
use crate::arch::trapframe::TrapFrame;
use crate::arch::traps::T_WAKEUP;
use crate::arch::{self, gdt, lapic};
use crate::cpu::{self, Cpu, mycpu};
use crate::file::File;
use crate::fs::{self, Inode};
use crate::kalloc::kalloc;
use crate::memlayout::KSTACKS;
use crate::param::{KSTACK_PAGES, NOFILE, NPROC, PGSIZE, PROC_NAME_LEN, ROOTDEV, TICKS_PER_SECOND};
use crate::spinlock::{SpinLock, SpinLockGuard};
use crate::vm::{self, AddressSpace, PageTableRoot};

global_asm!(include_str!("arch/x86_64/swtch.S"), options(att_syntax));

unsafe extern "C" {
    /// Saves the callee-saved registers and rsp into `*old`, loads `new`.
    fn swtch(old: *mut usize, new: usize);
    /// trapasm.S: pops a TrapFrame and returns to it.
    fn trapret();
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Unused,
    Used,
    Sleeping,
    Runnable,
    Running,
    Zombie,
}

/// Guarded by `Proc::lock`.
pub struct Shared {
    pub state: State,
    /// What the process sleeps on, if Sleeping.
    pub channel: Option<WaitChannel>,
    /// Exit status, for the parent's `wait`.
    pub exit_status: i32,
    /// The program's name, for Ctrl-P and fault messages: here, under the
    /// lock, so that another CPU can print it without touching `Private`.
    pub name: Name,
    /// The root of the process's page table, which the scheduler loads
    /// into CR3 to run it (a copy of its `AddressSpace`'s, kept here so
    /// that the scheduler never borrows `Private`).
    pub page_table: Option<PageTableRoot>,
}

/// A process's name: the last element of the path it runs, cut to
/// `PROC_NAME_LEN - 1` bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name([u8; PROC_NAME_LEN]);

impl Name {
    const EMPTY: Name = Name([0; PROC_NAME_LEN]);

    /// The name of a program at `path`.
    pub fn of_path(path: &[u8]) -> Name {
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        let mut bytes = [0; PROC_NAME_LEN];
        let len = name.len().min(PROC_NAME_LEN - 1);
        bytes[..len].copy_from_slice(&name[..len]);
        Name(bytes)
    }
}

impl core::fmt::Display for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(self.0.len());
        f.write_str(core::str::from_utf8(&self.0[..len]).unwrap_or("?"))
    }
}

/// Private to the process (see the module doc): no lock. A system call or
/// a trap borrows it once, at the boundary (`Proc::private`), and passes
/// the borrow down to whatever needs it.
pub struct Private {
    /// The user address space; `None` only while Unused.
    pub space: Option<AddressSpace>,
    /// End of the user memory: the program image, guard page, stack and
    /// heap all lie below it.
    pub size: usize,
    /// The initial end of memory (the start of the heap): `sbrk` may not
    /// shrink below it.
    pub heap_start: usize,
    /// Open files, by descriptor.
    pub files: [Option<File>; NOFILE],
    /// Current directory; `None` only while Unused.
    pub cwd: Option<Inode>,
    /// Shared-memory descriptors (shm.rs).
    pub shm: Descriptors,
}

impl Private {
    /// The address space of a process that exists (Used or later).
    pub fn space(&self) -> &AddressSpace {
        self.space.as_ref().expect("a process has an address space")
    }

    /// The same, to change.
    pub fn space_mut(&mut self) -> &mut AddressSpace {
        self.space.as_mut().expect("a process has an address space")
    }

    /// The open files and the address space, borrowed at once, for the
    /// calls that copy from a file into memory (a write into memory may
    /// change the page table: copy-on-write, vm.rs).
    pub fn files_and_space(&mut self) -> (&[Option<File>; NOFILE], &mut AddressSpace) {
        let space = self.space.as_mut().expect("a process has an address space");
        (&self.files, space)
    }
}

/// What switching to and from the process saves: touched by `sched` in the
/// process's own kernel thread, and by the scheduler or the process's
/// creator while no thread runs it, never by two at once. A system call's
/// borrow of [`Private`] may be live up the stack while `sched` runs,
/// which is why these fields live apart from it.
struct Switch {
    /// Saved kernel stack pointer while not running (swtch.S).
    context: usize,
    /// The x87/SSE/AVX registers while the process is not running (see
    /// "The registers a process owns" above).
    fpu: FpuState,
}

pub struct Proc {
    pub lock: SpinLock<Shared>,
    /// Set by `kill` or by a trap that ends the process, cleared when the
    /// slot is reused; the process exits at its next return to user
    /// space or wake-up. An atomic, read without the lock (module doc).
    killed: AtomicBool,
    /// The process id; 0 while the slot is Unused. Written with `lock`
    /// held (module doc).
    pid: AtomicI32,
    private: UnsafeCell<Private>,
    switch: UnsafeCell<Switch>,
}

// SAFETY: `lock` protects the shared fields; `private` is only touched by
// the process's own kernel thread, or by its creator/reaper while no
// thread runs it (module doc).
unsafe impl Sync for Proc {}

impl Proc {
    const fn new() -> Proc {
        Proc {
            lock: SpinLock::new(
                "proc",
                Shared {
                    state: State::Unused,
                    channel: None,
                    exit_status: 0,
                    name: Name::EMPTY,
                    page_table: None,
                },
            ),
            killed: AtomicBool::new(false),
            pid: AtomicI32::new(0),
            private: UnsafeCell::new(Private {
                space: None,
                size: 0,
                heap_start: 0,
                files: [const { None }; NOFILE],
                cwd: None,
                shm: Descriptors::new(),
            }),
            switch: UnsafeCell::new(Switch {
                context: 0,
                fpu: FpuState::INITIAL,
            }),
        }
    }

    /// The process's private fields.
    ///
    /// This is the one way to reach them, and the rule for it is Rust's
    /// own: no two references at once. The process's kernel thread takes
    /// the reference where it enters the kernel on the process's behalf
    /// (`syscall::syscall`, `forkret`, and `trap::exception` for a write
    /// to a copy-on-write page) and passes it down to every
    /// function that needs it; nothing below those boundaries calls this.
    /// `exit` takes it too, for the last time, and lets it go before the
    /// process becomes a Zombie. The slot's creator (while it is Used) and
    /// its reaper (once it is a Zombie, whose thread never runs again) are
    /// the only others.
    ///
    /// # Safety
    /// The caller must be at one of those boundaries, or own the slot while
    /// no thread runs it, and no other reference may be live.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn private(&self) -> &mut Private {
        // SAFETY: per the caller's promise, no other reference exists.
        unsafe { &mut *self.private.get() }
    }

    /// What switching saves (see [`Switch`]).
    ///
    /// # Safety
    /// The caller must be `sched` or `forkret` in the process's own thread,
    /// or the scheduler or creator while no thread runs it, and must drop
    /// the reference before anyone else may take one.
    #[allow(clippy::mut_from_ref)]
    unsafe fn switch(&self) -> &mut Switch {
        // SAFETY: per the caller's promise, no other reference exists.
        unsafe { &mut *self.switch.get() }
    }

    /// This slot's index in the table.
    pub fn index(&self) -> usize {
        (self as *const Proc as usize - PROCS.as_ptr() as usize) / size_of::<Proc>()
    }

    /// Lowest address of this slot's kernel stack.
    fn kernel_stack_bottom(&self) -> usize {
        KSTACKS + (self.index() * (KSTACK_PAGES + 1) + 1) * PGSIZE
    }

    /// One past the highest address of this slot's kernel stack.
    pub fn kernel_stack_top(&self) -> usize {
        self.kernel_stack_bottom() + KSTACK_PAGES * PGSIZE
    }

    /// The trap frame at the top of the kernel stack: the user registers
    /// saved on entry to the kernel. Only proc.rs writes through it, while
    /// no code runs on the stack (alloc_process, fork) or before any has
    /// borrowed the frame (forkret); everything else gets the frame lent
    /// by `trap` or `syscall_trap`.
    fn trap_frame(&self) -> *mut TrapFrame {
        (self.kernel_stack_top() - size_of::<TrapFrame>()) as *mut TrapFrame
    }

    /// Has the process been killed?
    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Marks the process killed (a trap that ends it; `kill` also wakes a
    /// sleeper, under the lock).
    pub fn set_killed(&self) {
        self.killed.store(true, Ordering::Release);
    }

    /// The process id. Read with `lock` held, it agrees with the state;
    /// the process's own never changes while it runs.
    pub fn pid(&self) -> i32 {
        self.pid.load(Ordering::Relaxed)
    }

    /// The pid and name, for messages about the process.
    pub fn pid_and_name(&self) -> (i32, Name) {
        let shared = self.lock.lock();
        (self.pid(), shared.name)
    }

    /// Resets the FPU/SSE registers of the calling process, `self`, to
    /// the initial state: in memory and in this CPU (exec). With
    /// interrupts off: a timer interrupt between the two would make
    /// `sched` save the old registers over the new state.
    pub fn reset_fpu(&self) {
        crate::spinlock::push_off();
        // SAFETY: called by the process itself, not from within sched,
        // which cannot run now (interrupts are off).
        let switch = unsafe { self.switch() };
        switch.fpu = FpuState::INITIAL;
        switch.fpu.restore();
        crate::spinlock::pop_off();
    }
}

static PROCS: [Proc; NPROC] = [const { Proc::new() }; NPROC];

/// The parent of each process (by slot index); see the module doc.
static WAIT_LOCK: SpinLock<[Option<usize>; NPROC]> = SpinLock::new("wait", [None; NPROC]);

static NEXT_PID: AtomicI32 = AtomicI32::new(1);

/// The init process's slot, once created.
const INIT_INDEX: usize = 0;

/// Maps every slot's kernel stack, each above an unmapped guard page.
pub fn init() {
    for p in &PROCS {
        for va in (p.kernel_stack_bottom()..p.kernel_stack_top()).step_by(PGSIZE) {
            let page = kalloc().expect("proc: no memory for kernel stacks");
            vm::map_kernel_page(va, page, PTFlags::RW | PTFlags::XD)
                .expect("proc: cannot map a kernel stack");
        }
    }
}

/// The process running on this CPU, if any (one load: see
/// `cpu::running_process`).
pub fn myproc() -> Option<&'static Proc> {
    cpu::running_process().map(|i| &PROCS[i])
}

/// The process running on this CPU, for code that only runs in one (system
/// calls, traps from user mode).
pub fn current() -> &'static Proc {
    myproc().expect("no current process")
}

/// Finds an unused slot, gives it a pid and an empty address space, and
/// prepares its kernel stack so that its first `swtch` lands in `forkret`
/// and then returns to user space through `trapret`. Returns the slot with
/// its lock held, in state Used.
fn alloc_process() -> Option<(&'static Proc, SpinLockGuard<'static, Shared>)> {
    for p in &PROCS {
        let mut shared = p.lock.lock();
        if shared.state != State::Unused {
            continue;
        }
        let space = AddressSpace::new()?;
        shared.state = State::Used;
        p.pid
            .store(NEXT_PID.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        p.killed.store(false, Ordering::Release);
        shared.exit_status = 0;
        // The initial kernel stack, from the top: the trap frame (filled in
        // by the caller), trapret's address (where forkret returns to),
        // forkret's address (where swtch returns to), and six zeroed
        // callee-saved registers for swtch to pop.
        let frame = p.trap_frame();
        let words = frame as *mut usize;
        // SAFETY: the slot's kernel stack is mapped and unused while the
        // slot is being allocated; the frame and words below it are inside.
        let context = unsafe {
            frame.write(TrapFrame::default());
            words
                .sub(1)
                .write(trapret as unsafe extern "C" fn() as usize);
            words.sub(2).write(forkret as extern "C" fn() as usize);
            for i in 3..=8 {
                words.sub(i).write(0);
            }
            words.sub(8) as usize
        };
        shared.name = Name::EMPTY;
        shared.page_table = Some(space.root());
        // SAFETY: the slot is Used and its lock is held by us: no thread
        // runs it.
        let (private, switch) = unsafe { (p.private(), p.switch()) };
        private.space = Some(space);
        private.size = 0;
        private.heap_start = 0;
        debug_assert!(private.files.iter().all(Option::is_none) && private.cwd.is_none());
        private.shm = Descriptors::new();
        switch.context = context;
        switch.fpu = FpuState::INITIAL;
        return Some((p, shared));
    }
    None
}

/// Frees a slot's memory and marks it Unused. Called with the slot's lock
/// held, on a Zombie or on a Used slot whose creation failed.
fn free_process(p: &Proc, shared: &mut Shared) {
    // SAFETY: the slot is a Zombie or Used and its lock is held: its own
    // thread will never run again (or never ran), and it holds no
    // reference to these fields (`exit` lets its borrow go before the
    // process becomes a Zombie).
    let private = unsafe { p.private() };
    // Dropping the address space frees its memory; it is not active on
    // any CPU (a zombie's CPU went back to the kernel's page table).
    drop(private.space.take());
    private.size = 0;
    shared.page_table = None;
    shared.state = State::Unused;
    p.pid.store(0, Ordering::Relaxed);
    shared.channel = None;
    p.killed.store(false, Ordering::Release);
}

/// The most arguments /init can be given, its own name included.
pub const INIT_MAXARG: usize = 8;

/// The arguments for /init, kept until the first process runs.
static INIT_ARGV: Once<([&'static [u8]; INIT_MAXARG], usize)> = Once::new();

/// Creates the first process and makes it runnable. It starts with an empty
/// address space: when it first runs, `forkret` mounts the file system and
/// execs /init with `argv` (both need a process, since they sleep for the
/// disk).
pub fn user_init(argv: [&'static [u8]; INIT_MAXARG], argc: usize) {
    INIT_ARGV.call_once(|| (argv, argc));
    let (p, mut shared) = alloc_process().expect("user_init: no process slot");
    assert_eq!(p.index(), INIT_INDEX, "init must take the first slot");
    shared.name = Name::of_path(b"init");
    shared.state = State::Runnable;
}

/// Where a new process's first `swtch` lands, with its lock held by the
/// scheduler that switched to it. Releases it and returns into `trapret`.
extern "C" fn forkret() {
    let p = current();
    // The registers it starts with: the initial state, or its parent's.
    // Loaded while the lock still keeps interrupts off: a timer interrupt
    // before this would make `sched` save this CPU's registers, which are
    // still another process's, as ours.
    // SAFETY: forkret, in the process's own thread (see `Proc::switch`).
    unsafe { p.switch() }.fpu.restore();
    // SAFETY: the scheduler acquired this process's lock before switching
    // here, and nothing else will release it (module doc).
    unsafe { p.lock.force_unlock() };
    // The very first process to get here is init, created alone by
    // user_init.
    if !INIT_STARTED.swap(true, Ordering::Relaxed) {
        start_init(p);
    }
}

/// Has init's first run begun?
static INIT_STARTED: AtomicBool = AtomicBool::new(false);

/// The first process's first steps: mount the file system, then exec
/// /init in place, with the arguments user_init kept.
fn start_init(p: &Proc) {
    fs::init(ROOTDEV);
    crate::log::begin_op();
    let root = fs::root();
    crate::log::end_op();
    // SAFETY: forkret is a boundary where the process's thread enters the
    // kernel (see `Proc::private`): nothing else borrows its fields.
    let private = unsafe { p.private() };
    private.cwd = Some(root);
    let (argv, argc) = INIT_ARGV.get().expect("user_init stored init's arguments");
    let frame = match crate::exec::load_into(p, private, b"/init", &argv[..*argc]) {
        Ok(frame) => frame,
        Err(error) => panic!("cannot start /init: {error:?}"),
    };
    // SAFETY: the frame is at the top of this kernel stack, below which
    // only trapret's return address lies: no code has borrowed it, and
    // trapret pops it once forkret returns.
    unsafe { p.trap_frame().write(frame) };
}

/// Creates a child that is a copy of the calling process, whose private
/// fields are `parent_private` and whose registers are `parent_frame`.
/// Returns the child's pid to the parent; the child sees 0.
///
/// The child's memory is the parent's, copy-on-write (vm.rs,
/// `AddressSpace::fork`): the two share every page until one of them
/// writes to it, which is why the parent's address space is borrowed
/// `mut`: its writable pages become read-only.
pub fn fork(parent_private: &mut Private, parent_frame: &TrapFrame) -> Option<i32> {
    let parent = current();
    // Read before taking the child's lock: a process lock is the last
    // lock taken (module doc), so never two at once.
    let name = parent.lock.lock().name;
    let (child, mut shared) = alloc_process()?;
    let pid = child.pid();
    shared.name = name;
    // The copy below takes other locks (the inode table's for the current
    // directory, the file table's, shared memory's), so it must not hold
    // the child's process lock: see "Lock order" in the module doc. It
    // needs none: a Used slot is ours alone.
    drop(shared);
    // SAFETY: `child` is Used, so no other thread touches its fields.
    let (child_private, child_switch) = unsafe { (child.private(), child.switch()) };
    let size = parent_private.size;
    let Some(space) = parent_private.space_mut().fork(size) else {
        free_process(child, &mut child.lock.lock());
        return None;
    };
    let root = space.root();
    // The empty address space alloc_process made goes.
    drop(child_private.space.replace(space));
    child.lock.lock().page_table = Some(root);
    child_private.size = parent_private.size;
    child_private.heap_start = parent_private.heap_start;
    if crate::shm::fork(parent_private, child_private).is_err() {
        free_process(child, &mut child.lock.lock());
        return None;
    }
    child_private.files = crate::file::dup_all(&parent_private.files);
    child_private.cwd = parent_private.cwd.clone();
    // The child resumes with the parent's registers: the general ones from
    // the trap frame, the FPU/SSE ones straight from this CPU, which holds
    // the parent's (the kernel never changes them).
    child_switch.fpu.save();
    let child_frame = TrapFrame {
        rax: 0,
        ..*parent_frame
    };
    // SAFETY: the child is Used: no code runs on its kernel stack and
    // nothing refers to its trap frame, which lies inside that stack.
    unsafe { child.trap_frame().write(child_frame) };

    WAIT_LOCK.lock()[child.index()] = Some(parent.index());
    make_runnable(&mut child.lock.lock());
    Some(pid)
}

/// Ends the calling process with `status`. Its children go to init; its
/// parent is woken to collect the status. Never returns.
///
/// # Safety
/// The caller must be `trap` or `syscall_trap` (trap.rs), in the
/// process's own thread, with no
/// reference to the process's [`Private`] fields or to its trap frame
/// live anywhere on its stack: this call never returns, so such a
/// reference would outlive the process, while its parent's `wait` takes
/// the private fields to free them and a new process in the slot
/// rewrites the trap frame.
pub unsafe fn exit(status: i32) -> ! {
    let p = current();
    if p.index() == INIT_INDEX {
        // In a test run, init exits when the test program it ran does,
        // with its status (ktest.rs): that ends the run.
        #[cfg(feature = "ktest")]
        if debug_exit::armed() {
            println!("ktest: user test program exited with status {status}");
            debug_exit::exit(if status == 0 {
                QemuExit::Success
            } else {
                QemuExit::Failure
            });
        }
        panic!("init exiting");
    }

    // Shared memory, files and the current directory go first, while the
    // address space still exists (shared pages are unmapped before the
    // page table is torn down), and without locks held (closing a file may
    // sleep for the disk). The borrow of the private fields ends with this
    // block, before the process becomes a Zombie that its parent may free.
    {
        // SAFETY: the caller is at a boundary of the process's own thread
        // and holds no other reference (the contract above).
        let private = unsafe { p.private() };
        crate::shm::close_all(private);
        crate::file::close_all(&mut private.files, &mut private.cwd);
    }

    let mut parents = WAIT_LOCK.lock();
    // Give any children to init, and wake init in case one is a zombie.
    for parent in parents.iter_mut() {
        if *parent == Some(p.index()) {
            *parent = Some(INIT_INDEX);
            wakeup(WaitChannel::of(&PROCS[INIT_INDEX]));
        }
    }
    let parent = parents[p.index()].expect("a process other than init has a parent");
    wakeup(WaitChannel::of(&PROCS[parent]));

    let mut shared = p.lock.lock();
    shared.exit_status = status;
    shared.state = State::Zombie;
    drop(parents);
    sched(shared);
    unreachable!("a zombie ran again");
}

/// Waits for a child to exit and returns its pid. The exit status goes to
/// `report` before the child is freed: if `report` fails (a bad user
/// pointer), the child stays a zombie for a later wait, and wait fails.
pub fn wait<E>(mut report: impl FnMut(i32) -> Result<(), E>) -> Result<i32, WaitError<E>> {
    let p = current();
    let mut parents = WAIT_LOCK.lock();
    loop {
        let mut have_children = false;
        for child in &PROCS {
            if parents[child.index()] != Some(p.index()) {
                continue;
            }
            have_children = true;
            let mut shared = child.lock.lock();
            if shared.state == State::Zombie {
                let pid = child.pid();
                report(shared.exit_status).map_err(WaitError::Report)?;
                free_process(child, &mut shared);
                parents[child.index()] = None;
                return Ok(pid);
            }
        }
        if !have_children {
            return Err(WaitError::NoChildren);
        }
        if p.killed() {
            return Err(WaitError::Killed);
        }
        parents = sleep(WaitChannel::of(p), parents);
    }
}

/// Why `wait` returned without a child.
#[derive(Debug)]
pub enum WaitError<E> {
    NoChildren,
    Killed,
    /// The status could not be delivered (a bad user pointer).
    Report(E),
}

/// Marks the process with `pid` killed; a sleeping one is woken so that it
/// notices. Returns false if there is no such process, and for init, which
/// must never exit: every orphan needs it.
pub fn kill(pid: i32) -> bool {
    for p in PROCS.iter().skip(INIT_INDEX + 1) {
        let mut shared = p.lock.lock();
        if p.pid() == pid && shared.state != State::Unused {
            p.killed.store(true, Ordering::Release);
            if shared.state == State::Sleeping {
                make_runnable(&mut shared);
            }
            return true;
        }
    }
    false
}

/// Ticks since boot: hundredths of a second (`TICKS_PER_SECOND`), brought
/// up to date on each of CPU 0's timer interrupts (`tick`). The `sleep(n)`
/// system call sleeps on this lock's channel and is woken every tick;
/// `uptime` reads it.
pub static TICKS: SpinLock<u64> = SpinLock::new("ticks", 0);

/// Ticks since boot.
pub fn ticks() -> u64 {
    *TICKS.lock()
}

/// A timer interrupt on CPU 0: sets the tick count to the time since boot
/// by the TSC, and wakes the processes sleeping on `TICKS`.
///
/// xv6 adds one per interrupt instead, which is right only if every
/// interrupt comes on time. Under QEMU a busy host takes the virtual CPU
/// away for tens of milliseconds; the interrupts that fell due meanwhile
/// come late, merged into one, and a count of them falls behind the time
/// (three times too slow at host load 6), and so would `sleep` and
/// `uptime`. The TSC keeps counting while the CPU is away (tsc.rs). The
/// count never goes down: an interrupt that comes a little before the
/// next hundredth leaves it as it is, and the next one adds two.
pub fn tick() {
    let mut ticks = TICKS.lock();
    *ticks = (*ticks).max(arch::tsc::periods_since_boot(TICKS_PER_SECOND));
    wakeup(WaitChannel::of(&TICKS));
}

/// Gives up the CPU for one scheduling round.
pub fn yield_cpu() {
    let p = current();
    let mut shared = p.lock.lock();
    shared.state = State::Runnable;
    drop(sched(shared));
}

/// Which slots may be sleeping, by channel: bit `i` of
/// `SLEEPERS[bucket(channel)]` is set while slot `i` sleeps on a channel
/// of that bucket. `wakeup` looks only at the slots whose bit is set in
/// its channel's bucket, instead of locking every slot of the table: a
/// pipe's reader and writer handing chunks to each other, or the timer's
/// wakeup every tick, cost a few looks, not `NPROC` lock round trips.
///
/// The bit is set before the sleeper lets go of the condition's lock, so a
/// waker (who holds that lock) always sees it; it is cleared when the
/// sleeper returns from `sleep`. A set bit of a slot that is not (or no
/// longer) sleeping on the channel only costs `wakeup` one look.
static SLEEPERS: [AtomicU64; SLEEP_BUCKETS] = [const { AtomicU64::new(0) }; SLEEP_BUCKETS];
const SLEEP_BUCKETS: usize = 16;
const _: () = assert!(NPROC <= 64, "SLEEPERS has one bit per process slot");

/// The `SLEEPERS` bucket of `channel`. Channels are addresses, mostly of
/// fields a few bytes or a page apart: mix both kinds of bits.
fn bucket(channel: WaitChannel) -> &'static AtomicU64 {
    let address = channel.0;
    &SLEEPERS[((address >> 3) ^ (address >> 12)) % SLEEP_BUCKETS]
}

/// What a sleeping process waits for: the object whose condition it waits
/// on, named by its address. A channel is made only from a reference to
/// that object ([`WaitChannel::of`]), so a sleeper and its waker agree on
/// it by naming the same object, and two different objects that are alive
/// at once never share a channel. The address is only compared, never
/// dereferenced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WaitChannel(usize);

impl WaitChannel {
    /// The channel of `object`: a pipe's counter, a lock, a disk request.
    pub fn of<T>(object: &T) -> WaitChannel {
        WaitChannel(core::ptr::from_ref(object).addr())
    }
}

/// Atomically releases `guard`'s lock and sleeps on `channel`; reacquires
/// the lock when woken.
pub fn sleep<'a, T>(channel: WaitChannel, guard: SpinLockGuard<'a, T>) -> SpinLockGuard<'a, T> {
    let p = current();
    let lock = guard.spinlock();
    let bit = 1u64 << p.index();
    // Take our own lock first: `wakeup` must take it to see us, so it
    // cannot run between our releasing `guard` and going to sleep. And be
    // findable (SLEEPERS) before `guard` goes.
    let mut shared = p.lock.lock();
    bucket(channel).fetch_or(bit, Ordering::SeqCst);
    drop(guard);
    shared.channel = Some(channel);
    shared.state = State::Sleeping;
    let mut shared = sched(shared);
    shared.channel = None;
    drop(shared);
    bucket(channel).fetch_and(!bit, Ordering::SeqCst);
    lock.lock()
}

/// Wakes every process sleeping on `channel`. The caller holds the lock
/// that guards the condition the sleepers wait for.
pub fn wakeup(channel: WaitChannel) {
    let me = myproc().map(|p| p.index());
    let mut maybe = bucket(channel).load(Ordering::SeqCst);
    while maybe != 0 {
        let index = maybe.trailing_zeros() as usize;
        maybe &= maybe - 1;
        if Some(index) == me {
            continue;
        }
        let mut shared = PROCS[index].lock.lock();
        if shared.state == State::Sleeping && shared.channel == Some(channel) {
            make_runnable(&mut shared);
        }
    }
}

/// Makes a (locked) process Runnable, and wakes an idle CPU to run it so
/// that it need not wait for some CPU's next timer tick.
fn make_runnable(shared: &mut Shared) {
    shared.state = State::Runnable;
    kick_idle_cpu();
}

/// Wakes one CPU, other than this one, that halts in `idle`, if there is
/// one. Clearing its `idle` flag claims it, so two processes made runnable
/// at once wake two different CPUs. The caller holds a process lock, so
/// interrupts are off and "this CPU" stays this CPU.
fn kick_idle_cpu() {
    for other in cpu::others() {
        if other
            .idle
            .compare_exchange(true, false, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            lapic::send_interrupt(other.apic_id.load(Ordering::Relaxed), T_WAKEUP);
            return;
        }
    }
}

/// Switches to this CPU's scheduler. The caller holds exactly one lock, its
/// own process lock (passed in), and has changed its state from Running.
/// Returns when the scheduler switches back, with the lock held again.
fn sched(shared: SpinLockGuard<'static, Shared>) -> SpinLockGuard<'static, Shared> {
    let p = current();
    let cpu = mycpu();
    assert!(p.lock.holding(), "sched: process lock not held");
    assert_eq!(cpu.interrupt_off_depth.get(), 1, "sched: other locks held");
    assert_ne!(shared.state, State::Running, "sched: still running");
    assert!(!arch::interrupts_enabled(), "sched: interrupts on");
    // Whether interrupts were on belongs to this kernel thread, not the CPU.
    let interrupts_were_on = cpu.interrupts_were_on.get();
    // The process's FPU/SSE registers leave the CPU with it (module doc).
    // SAFETY: sched, in the process's own thread (see `Proc::switch`); the
    // scheduler's stack pointer was saved by its own swtch, and takes
    // `context` only once this thread has switched away.
    unsafe {
        p.switch().fpu.save();
        swtch(&raw mut p.switch().context, cpu.scheduler_stack.get());
    }
    // Back on a CPU, maybe another one: its registers are ours again.
    // SAFETY: as above.
    unsafe { p.switch() }.fpu.restore();
    mycpu().interrupts_were_on.set(interrupts_were_on);
    shared
}

/// Each CPU's scheduler loop: run Runnable processes in turn; when there
/// are none, sleep until the next interrupt instead of spinning (under
/// emulation a spinning CPU steals host time from the ones doing work).
pub fn scheduler() -> ! {
    let cpu = mycpu();
    loop {
        arch::interrupts_on();
        let mut ran = false;
        for p in &PROCS {
            let mut shared = p.lock.lock();
            if shared.state != State::Runnable {
                continue;
            }
            shared.state = State::Running;
            cpu.set_process(Some(p.index()));
            // Traps and system calls from user mode use the process's stack.
            gdt::set_kernel_stack(p.kernel_stack_top());
            cpu.kernel_stack_top.set(p.kernel_stack_top());
            shared
                .page_table
                .expect("a runnable process has an address space")
                .activate();
            // SAFETY: the process is not running anywhere (it was Runnable,
            // and we hold its lock), so its saved context, made by
            // alloc_process or by its own sched, is quiet; it hands the
            // lock back (module doc).
            let context = unsafe { p.switch() }.context;
            // SAFETY: as above.
            unsafe { swtch(cpu.scheduler_stack.as_ptr(), context) };
            // The process gave the CPU back, with its lock held.
            vm::switch_to_kernel();
            cpu.set_process(None);
            ran = true;
            drop(shared);
        }
        if !ran {
            idle(cpu);
        }
    }
}

/// Halts this CPU until an interrupt, unless a process has become Runnable
/// since the scheduler's last look. Setting `idle` before looking again
/// closes the race with `kick_idle_cpu`: a process made Runnable after we
/// unlocked it was made so by a CPU that then saw our flag and sends
/// `T_WAKEUP`, which stays pending (interrupts are off here) until the
/// `sti; hlt` of `wait_for_interrupt` lets it in.
fn idle(cpu: &Cpu) {
    arch::interrupts_off();
    cpu.idle.store(true, Ordering::Release);
    if !PROCS.iter().any(|p| p.lock.lock().state == State::Runnable) {
        arch::wait_for_interrupt();
    }
    cpu.idle.store(false, Ordering::Relaxed);
}

/// Prints the process table (Ctrl-P on the console). Each slot is read
/// under its lock, taken with a try-lock: a slot whose lock is held
/// (maybe by a CPU that is stuck) prints as `?` instead of waiting, so
/// that Ctrl-P still works when the kernel is wedged.
pub fn dump() {
    println!();
    for p in &PROCS {
        let Some(shared) = p.lock.try_lock() else {
            println!("? (slot {} is locked)", p.index());
            continue;
        };
        let (state, pid, name) = (shared.state, p.pid(), shared.name);
        drop(shared);
        if state != State::Unused {
            println!("{pid} {state:?} {name}");
        }
    }
}

#[cfg(feature = "ktest")]
/// Deliberately overflows a kernel stack: runs an endless recursion on the
/// kernel stack of the last process slot (unused in kernel test mode). It
/// must run into the guard page and be reported as a double fault, taken on
/// the IST stack, instead of resetting the machine.
pub fn overflow_kernel_stack() -> ! {
    extern "C" fn run() -> ! {
        endless_recursion()
    }
    let top = PROCS[NPROC - 1].kernel_stack_top();
    // SAFETY: not safe at all, on purpose: the stack is unused (see above)
    // and the recursion is meant to fault.
    unsafe {
        core::arch::asm!(
            "mov rsp, {top}",
            "call {run}",
            top = in(reg) top,
            run = sym run,
            options(noreturn)
        )
    }
}

#[cfg(feature = "ktest")]
/// Deliberately overflows this CPU's own stack (the one its scheduler runs
/// on), which must run into the guard page below it (`mp::stack_guard_pages`)
/// and be reported as a double fault, like a process's kernel stack.
pub fn overflow_cpu_stack() -> ! {
    endless_recursion()
}

#[cfg(feature = "ktest")]
/// Recurses until the stack runs out; the fault ends it.
fn endless_recursion() -> ! {
    #[allow(unconditional_recursion)] // the point of the tests above
    fn recurse(depth: usize) -> usize {
        let frame = core::hint::black_box([depth as u8; 256]);
        recurse(depth + 1) + usize::from(frame[0])
    }
    let depth = recurse(0);
    panic!("a recursion of depth {depth} ended without a fault");
}
