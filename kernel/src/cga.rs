//! The CGA text screen: 80 columns by 25 rows at physical address 0xB8000.
//!
//! Each cell is two bytes, the character and its colour attribute. The
//! hardware cursor is moved through the CRT controller's index and data
//! ports (0x3D4 and 0x3D5), as xv6 does. The buffer is memory-mapped I/O, so
//! every access is volatile: the compiler must neither drop nor merge them.

use core::ptr::NonNull;

use volatile::VolatilePtr;
use x86::io::outb;

use crate::memlayout::{CGA_PHYS, phys_to_virt};
use crate::spinlock::SpinLock;

const COLUMNS: usize = 80;
const ROWS: usize = 25;
/// Light grey on black.
const ATTRIBUTE: u16 = 0x07 << 8;

const CRTC_INDEX: u16 = 0x3D4;
const CRTC_DATA: u16 = 0x3D5;
const CURSOR_HIGH: u8 = 14;
const CURSOR_LOW: u8 = 15;

/// Position of the next character, as a cell index (row * COLUMNS + column).
static POSITION: SpinLock<usize> = SpinLock::new("cga", 0);

/// The cell at `index`, which must be below `COLUMNS * ROWS`.
fn cell(index: usize) -> VolatilePtr<'static, u16> {
    assert!(index < COLUMNS * ROWS);
    let address = phys_to_virt(CGA_PHYS) as *mut u16;
    // SAFETY: the CGA buffer is 80x25 u16 cells at physical 0xB8000, always
    // mapped by the direct map; `index` is inside it (checked above). Only
    // this module touches the buffer, under POSITION's lock.
    unsafe { VolatilePtr::new(NonNull::new_unchecked(address.add(index))) }
}

fn blank(index: usize) {
    cell(index).write(ATTRIBUTE | u16::from(b' '));
}

/// Clears the screen and puts the cursor at the top left.
pub fn init() {
    let mut position = POSITION.lock();
    (0..COLUMNS * ROWS).for_each(blank);
    *position = 0;
    set_cursor(0);
}

/// Writes one character, scrolling when the screen is full.
pub fn putc(byte: u8) {
    let mut position = POSITION.lock();
    match byte {
        b'\n' => *position += COLUMNS - *position % COLUMNS,
        // Backspace: step back over the previous character and blank it.
        0x08 => {
            if *position > 0 {
                *position -= 1;
                blank(*position);
            }
        }
        _ => {
            cell(*position).write(ATTRIBUTE | u16::from(byte));
            *position += 1;
        }
    }
    if *position >= COLUMNS * ROWS {
        // Scroll up one line and blank the last one.
        for index in COLUMNS..COLUMNS * ROWS {
            cell(index - COLUMNS).write(cell(index).read());
        }
        ((ROWS - 1) * COLUMNS..COLUMNS * ROWS).for_each(blank);
        *position -= COLUMNS;
    }
    set_cursor(*position);
}

fn set_cursor(position: usize) {
    let [low, high, ..] = position.to_le_bytes();
    // SAFETY: 0x3D4/0x3D5 are the CRT controller's ports; writing the cursor
    // registers only moves the blinking cursor.
    unsafe {
        outb(CRTC_INDEX, CURSOR_HIGH);
        outb(CRTC_DATA, high);
        outb(CRTC_INDEX, CURSOR_LOW);
        outb(CRTC_DATA, low);
    }
}
