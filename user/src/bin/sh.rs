//! sh: the shell, after xv6's.
//!
//! The shell reads a line from standard input (after writing the prompt
//! `$ ` to standard error), parses it into a tree of [`Command`]s, and runs
//! the tree in a child process while it waits. It exits at the end of its
//! input.
//!
//! # The language
//!
//! ```text
//! line     = pipeline { "&" } [ ";" line ]      a list, run left to right
//!          | pipeline "&" { "&" } line         (after `&`, `;` is optional)
//! pipeline = command [ "|" pipeline ]
//! command  = "(" line ")" { redirect }          a group
//!          | { redirect | WORD }                a program and its arguments
//! redirect = "<" WORD | ">" WORD
//! ```
//!
//! A WORD is any run of bytes other than blanks and the symbols
//! `< > | & ; ( )`; there is no quoting. `&` runs what precedes it in the
//! background: the shell does not wait for it. `<` opens a file as standard
//! input; `>` creates or truncates one as standard output. There is one
//! built-in, `cd`, which must run in the shell itself: a child's current
//! directory dies with it. So the commands of a line's top-level list run
//! one by one from the shell ([`run_in_shell`]), and a `cd` among them
//! changes the shell's own directory.
//!
//! # Running a tree
//!
//! [`run`] executes a node in the process that calls it and never returns;
//! each node forks as it needs to, which is how xv6 shows off what `fork`,
//! `exec`, `pipe`, `dup` and `close` combine into:
//!
//! - `Exec` replaces the process with the program. Programs are found by
//!   name in the current directory, or failing that in the root, `/` (there
//!   is no PATH), so commands still work after `cd`.
//! - `Redirect` closes the descriptor it redirects and opens the file,
//!   which takes the lowest free descriptor — the one just closed — then
//!   runs its command, which inherits it.
//! - `Pipe` makes a pipe and forks two children, one with the pipe's write
//!   end as its standard output, one with its read end as standard input;
//!   every other copy of the pipe's ends is closed, so that the reader sees
//!   end-of-file when the writer finishes.
//! - `List` runs its left side in a child, waits for it, then runs its
//!   right side (a `cd` on the left runs in this process instead).
//! - `Background` runs its command in a child and exits without waiting;
//!   the child is handed to `init`, which reaps it.
//! - `Group` just runs its command: [`run`] always runs in a child of the
//!   shell, so whatever a group does (`cd`, say) ends with that child.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::ffi::CString;
use alloc::vec::Vec;

use abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
use ulib::string::Text;
use ulib::{
    Args, STDERR, STDIN, STDOUT, chdir, close, dup, eprintln, exec_args, exit, fork, open, pipe,
    read, wait, write,
};

ulib::entry!(main);

/// A parsed command line. Words borrow from the line they were parsed from.
enum Command<'a> {
    /// A program and its arguments (`argv[0]` is the program).
    Exec(Vec<&'a [u8]>),
    /// Runs `command` with descriptor `fd` open on `file`.
    Redirect {
        command: Box<Command<'a>>,
        file: &'a [u8],
        flags: u32,
        fd: i32,
    },
    /// `left | right`.
    Pipe(Box<Command<'a>>, Box<Command<'a>>),
    /// `left ; right`.
    List(Box<Command<'a>>, Box<Command<'a>>),
    /// `command &`.
    Background(Box<Command<'a>>),
    /// `( line )`: runs in a child of its own, so that a `cd` inside stays
    /// inside.
    Group(Box<Command<'a>>),
}

fn main(_args: Args) -> i32 {
    // Make sure descriptors 0, 1 and 2 are open, on the console if nothing
    // else: a program may rely on them.
    loop {
        let fd = open(c"console", O_RDWR);
        if fd < 0 {
            break;
        }
        if fd >= 3 {
            close(fd);
            break;
        }
    }

    let mut line = Vec::new();
    while get_command(&mut line) {
        let command = match Parser::new(&line).parse() {
            Ok(command) => command,
            Err(why) => {
                eprintln!("{why}");
                continue;
            }
        };
        run_in_shell(&command);
    }
    0
}

/// Runs a whole line. The commands of a top-level list run one after
/// another from the shell itself, so that a `cd` among them changes the
/// shell's directory for the rest of the line and for the lines after;
/// anything else runs in a child, which the shell waits for.
fn run_in_shell(command: &Command) {
    match command {
        Command::List(left, right) => {
            run_in_shell(left);
            run_in_shell(right);
        }
        Command::Exec(argv) if argv.is_empty() => {}
        Command::Exec(argv) if argv[0] == b"cd" => change_directory(argv),
        _ => match fork() {
            0 => run(command),
            pid if pid < 0 => eprintln!("fork failed"),
            _ => {
                wait(None);
            }
        },
    }
}

/// Prompts for and reads one line into `line`, newline included. Returns
/// false at the end of the input.
///
/// It reads one byte at a time, so as never to consume input past the end
/// of the line: when input is a file, the commands the line runs share its
/// offset and may read the rest themselves.
fn get_command(line: &mut Vec<u8>) -> bool {
    write(STDERR, b"$ ");
    line.clear();
    let mut c = [0u8];
    while read(STDIN, &mut c) == 1 {
        line.push(c[0]);
        if c[0] == b'\n' || c[0] == b'\r' {
            break;
        }
    }
    !line.is_empty()
}

/// The built-in `cd DIR`; plain `cd` goes to the root.
fn change_directory(argv: &[&[u8]]) {
    let dir = match argv {
        [_] => b"/".as_slice(),
        [_, dir] => dir,
        _ => {
            eprintln!("usage: cd dir");
            return;
        }
    };
    if CString::new(dir).map_or(-1, |path| chdir(&path)) < 0 {
        eprintln!("cannot cd {}", Text(dir));
    }
}

/// Runs `command` in this process (see the module documentation); never
/// returns.
fn run(command: &Command) -> ! {
    match command {
        Command::Exec(argv) => {
            let Some(&program) = argv.first() else {
                exit(0);
            };
            if program == b"cd" {
                // In a child (a group, a pipeline): the change lasts as long
                // as this process, which is all a child's `cd` can do.
                change_directory(argv);
                exit(0);
            }
            exec_args(program, argv);
            if !program.contains(&b'/') {
                exec_args([b"/", program].concat(), argv);
            }
            eprintln!("exec {} failed", Text(program));
            exit(1);
        }
        Command::Redirect {
            command,
            file,
            flags,
            fd,
        } => {
            close(*fd);
            if CString::new(*file).map_or(-1, |path| open(&path, *flags)) < 0 {
                eprintln!("open {} failed", Text(file));
                exit(1);
            }
            run(command)
        }
        Command::List(left, right) => {
            match &**left {
                // `(cd dir; ls)`: change this process's directory, which
                // the rest of the group inherits.
                Command::Exec(argv) if argv.first() == Some(&b"cd".as_slice()) => {
                    change_directory(argv)
                }
                _ => {
                    if fork_or_exit() == 0 {
                        run(left);
                    }
                    wait(None);
                }
            }
            run(right)
        }
        Command::Pipe(left, right) => {
            let mut ends = [0; 2];
            if pipe(&mut ends) < 0 {
                eprintln!("pipe failed");
                exit(1);
            }
            let [read_end, write_end] = ends;
            if fork_or_exit() == 0 {
                close(STDOUT);
                dup(write_end);
                close(read_end);
                close(write_end);
                run(left);
            }
            if fork_or_exit() == 0 {
                close(STDIN);
                dup(read_end);
                close(read_end);
                close(write_end);
                run(right);
            }
            close(read_end);
            close(write_end);
            wait(None);
            wait(None);
            exit(0)
        }
        Command::Background(command) => {
            if fork_or_exit() == 0 {
                run(command);
            }
            exit(0)
        }
        // Already in a process of its own: run() is only ever called in a
        // child of the shell.
        Command::Group(command) => run(command),
    }
}

/// Forks; if that fails, says so and exits (we are already a child of the
/// shell, so only this command is lost).
fn fork_or_exit() -> i32 {
    let pid = fork();
    if pid < 0 {
        eprintln!("fork failed");
        exit(1);
    }
    pid
}

/// The bytes that separate words.
const BLANKS: &[u8] = b" \t\r\n\x0b";
/// The bytes that are tokens by themselves.
const SYMBOLS: &[u8] = b"<>|&;()";

/// What the tokenizer hands the parser.
enum Token<'a> {
    Word(&'a [u8]),
    Symbol(u8),
}

/// A redirection seen while parsing, before it wraps its command.
struct Redirection<'a> {
    file: &'a [u8],
    flags: u32,
    fd: i32,
}

/// A recursive-descent parser over one line, with one function per rule of
/// the grammar in the module documentation.
struct Parser<'a> {
    line: &'a [u8],
    /// Index of the next unread byte of `line`.
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(line: &'a [u8]) -> Self {
        Parser { line, pos: 0 }
    }

    /// Parses the whole line; anything left over is an error.
    fn parse(mut self) -> Result<Command<'a>, &'static str> {
        let command = self.parse_line()?;
        match self.peek() {
            None => Ok(command),
            Some(_) => Err("syntax - leftovers"),
        }
    }

    /// Skips blanks and returns the next byte without consuming it.
    fn peek(&mut self) -> Option<u8> {
        while self.pos < self.line.len() && BLANKS.contains(&self.line[self.pos]) {
            self.pos += 1;
        }
        self.line.get(self.pos).copied()
    }

    /// Is the next byte one of `set`?
    fn peek_in(&mut self, set: &[u8]) -> bool {
        self.peek().is_some_and(|c| set.contains(&c))
    }

    /// Consumes and returns the next token, if any.
    fn next_token(&mut self) -> Option<Token<'a>> {
        let c = self.peek()?;
        if SYMBOLS.contains(&c) {
            self.pos += 1;
            return Some(Token::Symbol(c));
        }
        let start = self.pos;
        while self.pos < self.line.len()
            && !BLANKS.contains(&self.line[self.pos])
            && !SYMBOLS.contains(&self.line[self.pos])
        {
            self.pos += 1;
        }
        Some(Token::Word(&self.line[start..self.pos]))
    }

    /// line = pipeline { "&" } [ ";" line ] | pipeline "&" { "&" } line
    fn parse_line(&mut self) -> Result<Command<'a>, &'static str> {
        let mut command = self.parse_pipeline()?;
        let mut background = false;
        while self.peek() == Some(b'&') {
            self.next_token();
            command = Command::Background(Box::new(command));
            background = true;
        }
        let more = match self.peek() {
            Some(b';') => {
                self.next_token();
                true
            }
            // `a & b`: the `&` ends a command as `;` would.
            Some(c) => background && c != b')',
            None => false,
        };
        if more {
            command = Command::List(Box::new(command), Box::new(self.parse_line()?));
        }
        Ok(command)
    }

    /// pipeline = command [ "|" pipeline ]
    fn parse_pipeline(&mut self) -> Result<Command<'a>, &'static str> {
        let command = self.parse_command()?;
        if self.peek() == Some(b'|') {
            self.next_token();
            return Ok(Command::Pipe(
                Box::new(command),
                Box::new(self.parse_pipeline()?),
            ));
        }
        Ok(command)
    }

    /// command = "(" line ")" { redirect } | { redirect | WORD }
    fn parse_command(&mut self) -> Result<Command<'a>, &'static str> {
        let mut redirections = Vec::new();
        if self.peek() == Some(b'(') {
            self.next_token();
            let command = self.parse_line()?;
            if self.peek() != Some(b')') {
                return Err("syntax - missing )");
            }
            self.next_token();
            self.parse_redirections(&mut redirections)?;
            return Ok(wrap(Command::Group(Box::new(command)), redirections));
        }
        let mut argv = Vec::new();
        self.parse_redirections(&mut redirections)?;
        while self.peek().is_some() && !self.peek_in(b"|)&;") {
            match self.next_token() {
                Some(Token::Word(word)) => argv.push(word),
                _ => return Err("syntax"),
            }
            self.parse_redirections(&mut redirections)?;
        }
        Ok(wrap(Command::Exec(argv), redirections))
    }

    /// { redirect }: appends each redirection, in order, to `redirections`.
    fn parse_redirections(
        &mut self,
        redirections: &mut Vec<Redirection<'a>>,
    ) -> Result<(), &'static str> {
        while self.peek_in(b"<>") {
            let Some(Token::Symbol(symbol)) = self.next_token() else {
                unreachable!("peek saw a redirection symbol");
            };
            let Some(Token::Word(file)) = self.next_token() else {
                return Err("missing file for redirection");
            };
            redirections.push(if symbol == b'<' {
                Redirection {
                    file,
                    flags: O_RDONLY,
                    fd: STDIN,
                }
            } else {
                Redirection {
                    file,
                    flags: O_WRONLY | O_CREATE | O_TRUNC,
                    fd: STDOUT,
                }
            });
        }
        Ok(())
    }
}

/// Wraps `command` in its redirections. The first one written becomes the
/// outermost node, so it is opened first and a later redirection of the
/// same descriptor wins, as in other shells.
fn wrap<'a>(command: Command<'a>, redirections: Vec<Redirection<'a>>) -> Command<'a> {
    redirections
        .into_iter()
        .rev()
        .fold(command, |command, r| Command::Redirect {
            command: Box::new(command),
            file: r.file,
            flags: r.flags,
            fd: r.fd,
        })
}
