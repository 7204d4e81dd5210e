//! ACPI: how many CPUs there are and where the interrupt controllers live.
//!
//! The firmware describes the machine in ACPI tables in memory. GRUB copies
//! the Root System Description Pointer (RSDP) into the multiboot2 boot
//! information; from there:
//!
//! ```text
//! RSDP --> RSDT (32-bit pointers) or XSDT (64-bit pointers, ACPI 2.0+)
//!            |
//!            +--> "APIC": the MADT, a list of variable-length entries:
//!            |      type 0: a CPU's local APIC (its id, enabled or not)
//!            |      type 1: an I/O APIC (its address, first interrupt)
//!            |      type 2: an interrupt source override (ISA IRQ -> GSI)
//!            |      type 5: a 64-bit local APIC address
//!            |
//!            +--> "FACP": the FADT, fixed fields; the test kernel reads
//!                   where the power-management timer is (ktest.rs checks
//!                   the TSC's rate against it)
//! ```
//!
//! Every table starts with the same 36-byte header and carries a checksum:
//! its bytes sum to zero. A table with a bad checksum is refused.
//!
//! This module reads the tables once, on the boot CPU, and keeps the answer
//! in a [`Machine`]. The tables are plain bytes read through the direct map;
//! fields are read unaligned, since ACPI packs its structures.

use spin::Once;

use crate::memlayout::phys_to_virt;
use crate::multiboot;
use crate::param::NCPU;

/// What the kernel needs to know about the machine's CPUs and interrupts.
#[derive(Debug)]
pub struct Machine {
    /// Physical address of the local APICs' registers.
    pub lapic_address: usize,
    /// Physical address of the (first) I/O APIC's registers.
    pub ioapic_address: usize,
    /// The first global system interrupt (GSI) that I/O APIC handles.
    pub ioapic_gsi_base: u32,
    /// Local APIC ids of the enabled CPUs, the boot CPU among them.
    pub apic_ids: [u32; NCPU],
    /// How many entries of `apic_ids` are valid.
    pub cpu_count: usize,
    /// Enabled CPUs the MADT lists beyond the first NCPU, which stay off
    /// (main.rs says so at boot).
    pub cpus_ignored: usize,
    /// ISA IRQ -> GSI, where an override entry changes the identity mapping.
    isa_overrides: [Option<u32>; 16],
}

impl Machine {
    /// The GSI that ISA interrupt `irq` (COM1 = 4, the disk = 14) arrives on.
    pub fn isa_irq_to_gsi(&self, irq: u8) -> u32 {
        self.isa_overrides
            .get(usize::from(irq))
            .copied()
            .flatten()
            .unwrap_or(u32::from(irq))
    }
}

static MACHINE: Once<Machine> = Once::new();

/// What `init` found.
pub fn machine() -> &'static Machine {
    MACHINE.get().expect("acpi::init has not run")
}

const HEADER_SIZE: usize = 36;

/// Reads a `T` at physical address `pa`, which may be unaligned.
fn read<T: Copy>(pa: usize) -> T {
    // SAFETY: ACPI tables lie in RAM or firmware-reserved memory below 4 GiB,
    // which the direct map covers (vm.rs); the read has no side effects.
    unsafe { core::ptr::read_unaligned(phys_to_virt(pa) as *const T) }
}

/// Whether the `length` bytes at `pa` sum to zero, as ACPI checksums require.
fn checksum_ok(pa: usize, length: usize) -> bool {
    (pa..pa + length).fold(0u8, |sum, byte| sum.wrapping_add(read::<u8>(byte))) == 0
}

/// A table's signature and length, if its header and checksum are sound.
fn table_at(pa: usize) -> Option<([u8; 4], usize)> {
    let signature: [u8; 4] = read(pa);
    let length = read::<u32>(pa + 4) as usize;
    ((HEADER_SIZE..1 << 20).contains(&length) && checksum_ok(pa, length))
        .then_some((signature, length))
}

/// Finds the table with signature `want` through the RSDT or XSDT: its
/// address and length, or None if there is none; an error if the root
/// tables are unusable.
fn find_table(want: &[u8; 4]) -> Result<Option<(usize, usize)>, &'static str> {
    let info = multiboot::boot_info();
    let (root, pointer_size) = if let Some(rsdp) = info.rsdp_v2_tag() {
        if !rsdp.checksum_is_valid() {
            return Err("RSDP checksum is wrong");
        }
        (rsdp.xsdt_address(), 8)
    } else if let Some(rsdp) = info.rsdp_v1_tag() {
        if !rsdp.checksum_is_valid() {
            return Err("RSDP checksum is wrong");
        }
        (rsdp.rsdt_address(), 4)
    } else {
        return Err("GRUB passed no ACPI RSDP");
    };
    let (_, root_length) = table_at(root).ok_or("RSDT/XSDT is damaged")?;
    let entries = (root + HEADER_SIZE..root + root_length).step_by(pointer_size);
    for entry in entries {
        let table = if pointer_size == 8 {
            read::<u64>(entry) as usize
        } else {
            read::<u32>(entry) as usize
        };
        if let Some((signature, length)) = table_at(table)
            && &signature == want
        {
            return Ok(Some((table, length)));
        }
    }
    Ok(None)
}

/// Reads the MADT. Panics with the reason if the tables are unusable: the
/// kernel cannot run without its interrupt controllers.
pub fn init() {
    let machine = parse_madt().unwrap_or_else(|why| panic!("acpi: {why}"));
    MACHINE.call_once(|| machine);
}

fn parse_madt() -> Result<Machine, &'static str> {
    let (madt, length) = find_table(b"APIC")?.ok_or("no MADT (APIC table) in the ACPI tables")?;
    let mut machine = Machine {
        lapic_address: read::<u32>(madt + HEADER_SIZE) as usize,
        ioapic_address: 0,
        ioapic_gsi_base: 0,
        apic_ids: [0; NCPU],
        cpu_count: 0,
        cpus_ignored: 0,
        isa_overrides: [None; 16],
    };
    let mut entry = madt + HEADER_SIZE + 8;
    while entry + 2 <= madt + length {
        let kind: u8 = read(entry);
        let entry_length = usize::from(read::<u8>(entry + 1));
        if entry_length < 2 || entry + entry_length > madt + length {
            return Err("MADT entry runs past the table");
        }
        match kind {
            // Processor local APIC: processor id, APIC id, flags (bit 0:
            // enabled, bit 1: can be enabled later; we take enabled ones).
            0 => {
                let apic_id = read::<u8>(entry + 3);
                let flags = read::<u32>(entry + 4);
                if flags & 1 != 0 && machine.cpu_count < NCPU {
                    machine.apic_ids[machine.cpu_count] = u32::from(apic_id);
                    machine.cpu_count += 1;
                } else if flags & 1 != 0 {
                    machine.cpus_ignored += 1;
                }
            }
            // I/O APIC: id, reserved, address, GSI base. We use the first.
            1 if machine.ioapic_address == 0 => {
                machine.ioapic_address = read::<u32>(entry + 4) as usize;
                machine.ioapic_gsi_base = read::<u32>(entry + 8);
            }
            // Interrupt source override: bus, ISA IRQ, GSI, flags.
            2 => {
                let irq = usize::from(read::<u8>(entry + 3));
                if irq < machine.isa_overrides.len() {
                    machine.isa_overrides[irq] = Some(read::<u32>(entry + 4));
                }
            }
            // Local APIC address override.
            5 => machine.lapic_address = read::<u64>(entry + 4) as usize,
            _ => {}
        }
        entry += entry_length;
    }
    if machine.cpu_count == 0 {
        return Err("MADT lists no enabled CPU");
    }
    if machine.ioapic_address == 0 {
        return Err("MADT lists no I/O APIC");
    }
    Ok(machine)
}

/// The ACPI power-management timer: a counter at 3.579545 MHz that only
/// goes up, read from an I/O port, 24 or 32 bits wide.
#[cfg(feature = "ktest")]
pub struct PmTimer {
    port: u16,
    /// All ones in the counter's bits.
    pub mask: u32,
}

#[cfg(feature = "ktest")]
impl PmTimer {
    /// Ticks per second.
    pub const HZ: u64 = 3_579_545;

    /// The count now.
    pub fn read(&self) -> u32 {
        // SAFETY: the FADT names this port as the timer's, a register
        // that only counts: reading it changes nothing.
        unsafe { x86::io::inl(self.port) & self.mask }
    }
}

/// The power-management timer, from the FADT: its port (PM_TMR_BLK, at
/// byte 76; PM_TMR_LEN, at byte 91, is 4 when there is one) and its width
/// (flag TMR_VAL_EXT, bit 8 of the flags at byte 112: 32 bits, else 24).
/// None if the machine has no FADT or no timer.
#[cfg(feature = "ktest")]
pub fn pm_timer() -> Option<PmTimer> {
    const PM_TMR_BLK: usize = 76;
    const PM_TMR_LEN: usize = 91;
    const FLAGS: usize = 112;
    const TMR_VAL_EXT: u32 = 1 << 8;
    let (fadt, length) = find_table(b"FACP").ok().flatten()?;
    if length < FLAGS + 4 || read::<u8>(fadt + PM_TMR_LEN) != 4 {
        return None;
    }
    let port = u16::try_from(read::<u32>(fadt + PM_TMR_BLK)).ok()?;
    let mask = if read::<u32>(fadt + FLAGS) & TMR_VAL_EXT != 0 {
        u32::MAX
    } else {
        (1 << 24) - 1
    };
    (port != 0).then_some(PmTimer { port, mask })
}
