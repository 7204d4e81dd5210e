//! The console device (major 1): what is typed on the serial port comes
//! in, line by line, with xv6's line editing; what a program writes goes
//! out through printf.rs, like the kernel's own messages, to the serial
//! port and the CGA screen.
//!
//! Typed bytes arrive from COM1's interrupt (trap.rs calls [`input`]);
//! a reader sleeps until a whole line is there. This is the half of the
//! console that sleeps, so it sits with the processes (main.rs's layers);
//! printing never sleeps and sits far below.

use crate::error::Error;
use crate::printf::{print, write_bytes};
use crate::proc::WaitChannel;
use crate::spinlock::SpinLock;
use crate::vm::{self, AddressSpace, UserAddr};

/// Typed characters waiting to be read, with xv6's line editing. `read`
/// only sees whole lines: the bytes before `edit`. Guarded by its lock;
/// readers sleep on `read`'s address.
struct Input {
    buffer: [u8; INPUT_SIZE],
    /// Next byte `read` will return.
    read: usize,
    /// End of the bytes `read` may return (whole lines).
    committed: usize,
    /// End of the line being edited.
    edit: usize,
}

const INPUT_SIZE: usize = 128;

static INPUT: SpinLock<Input> = SpinLock::new(
    "console input",
    Input {
        buffer: [0; INPUT_SIZE],
        read: 0,
        committed: 0,
        edit: 0,
    },
);

const fn ctrl(key: u8) -> u8 {
    key - b'@'
}

const BACKSPACE: u8 = 0x08;
const DELETE: u8 = 0x7F;

fn input_channel() -> WaitChannel {
    WaitChannel::of(&INPUT)
}

/// Erases the last character on the terminal: back, blank, back.
fn echo_erase() {
    print(format_args!("\x08 \x08"));
}

/// A byte typed on the console (from the UART's interrupt): line editing,
/// as in xv6. Backspace erases a character, Ctrl-U the whole line, Ctrl-D
/// ends the input (a read returns what is there, or 0 at the start of a
/// line), Ctrl-P prints the process list. Enter makes the line readable.
pub fn input(byte: u8) {
    let mut input = INPUT.lock();
    match byte {
        b if b == ctrl(b'P') => {
            drop(input);
            crate::proc::dump();
        }
        b if b == ctrl(b'U') => {
            while input.edit != input.committed
                && input.buffer[(input.edit - 1) % INPUT_SIZE] != b'\n'
            {
                input.edit -= 1;
                echo_erase();
            }
        }
        BACKSPACE | DELETE => {
            if input.edit != input.committed {
                input.edit -= 1;
                echo_erase();
            }
        }
        0 => {}
        _ => {
            if input.edit - input.read >= INPUT_SIZE {
                return; // full: drop the byte
            }
            let byte = if byte == b'\r' { b'\n' } else { byte };
            let at = input.edit % INPUT_SIZE;
            input.buffer[at] = byte;
            input.edit += 1;
            if byte != ctrl(b'D') {
                print(format_args!("{}", byte as char));
            }
            if byte == b'\n' || byte == ctrl(b'D') || input.edit - input.read == INPUT_SIZE {
                input.committed = input.edit;
                crate::proc::wakeup(input_channel());
            }
        }
    }
}

/// The console device's read: up to `n` bytes of typed input, at most one
/// line, waiting until a line is there.
pub fn read(space: &mut AddressSpace, dst: UserAddr, n: usize) -> Result<usize, Error> {
    let mut input = INPUT.lock();
    let mut done = 0;
    while done < n {
        while input.read == input.committed {
            if crate::proc::current().killed() {
                return Err(Error::Interrupted);
            }
            input = crate::proc::sleep(input_channel(), input);
        }
        let byte = input.buffer[input.read % INPUT_SIZE];
        input.read += 1;
        if byte == ctrl(b'D') {
            // End of file. If this read already has bytes, leave the
            // Ctrl-D for the next read, which then returns 0.
            if done > 0 {
                input.read -= 1;
            }
            break;
        }
        let at = dst.0.checked_add(done).ok_or(Error::BadAddress)?;
        vm::copy_out(space, UserAddr(at), &[byte])?;
        done += 1;
        if byte == b'\n' {
            break;
        }
    }
    Ok(done)
}

/// The console device's write: `n` bytes from user address `src` in
/// `space`.
pub fn write(space: &AddressSpace, src: UserAddr, n: usize) -> Result<usize, Error> {
    // Check the whole buffer first, so a bad pointer prints nothing.
    space.check(src, n, false)?;
    let mut chunk = [0u8; 128];
    let mut done = 0;
    while done < n {
        let len = (n - done).min(chunk.len());
        let at = src.0.checked_add(done).ok_or(Error::BadAddress)?;
        vm::copy_in(space, &mut chunk[..len], UserAddr(at))?;
        write_bytes(&chunk[..len]);
        done += len;
    }
    Ok(n)
}
