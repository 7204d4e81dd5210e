//! Host tests of the shared-memory bookkeeping. Pages are numbers handed
//! out by a counting allocator, so the tests can tell which were freed.

extern crate std;

use std::vec::Vec;

use super::*;

/// A page allocator for tests: hands out 1, 2, 3, ..., up to `limit`
/// pages at once, and records what comes back.
struct Pages {
    next: usize,
    outstanding: Vec<usize>,
    limit: usize,
}

impl Pages {
    fn new(limit: usize) -> Pages {
        Pages {
            next: 1,
            outstanding: Vec::new(),
            limit,
        }
    }

    fn alloc(&mut self) -> Option<usize> {
        if self.outstanding.len() == self.limit {
            return None;
        }
        let page = self.next;
        self.next += 1;
        self.outstanding.push(page);
        Some(page)
    }

    fn free(&mut self, page: usize) {
        let i = self
            .outstanding
            .iter()
            .position(|&p| p == page)
            .expect("freed a page that was not allocated");
        self.outstanding.swap_remove(i);
    }
}

fn trunc(table: &mut Table, pages: &mut Pages, slot: usize, size: i64) -> Result<usize, ShmError> {
    let pages = core::cell::RefCell::new(pages);
    table.trunc(
        slot,
        size,
        || pages.borrow_mut().alloc(),
        |p| pages.borrow_mut().free(p),
    )
}

#[test]
fn names_are_checked() {
    assert_eq!(check_name(b""), Err(ShmError::BadName));
    assert_eq!(check_name(&[b'a'; 64]), Err(ShmError::BadName));
    assert_eq!(check_name(b"a\0b"), Err(ShmError::BadName));
    assert_eq!(check_name(&[b'a'; 63]), Ok(()));
    assert_eq!(check_name(b"x"), Ok(()));
}

#[test]
fn open_finds_by_exact_name_and_counts_references() {
    let mut table = Table::new();
    let foo = table.open(b"foo").unwrap();
    assert_eq!(foo, 0);
    assert_eq!(table.open(b"foo"), Ok(foo));
    assert_eq!(table.references(foo), 2);
    // A prefix, or a longer name, is another object.
    let fo = table.open(b"fo").unwrap();
    let fooo = table.open(b"fooo").unwrap();
    assert!(fo != foo && fooo != foo && fo != fooo);
    assert_eq!(table.name(foo), b"foo");
    assert_eq!(table.used_slots(), 3);
    assert_eq!(table.open(b""), Err(ShmError::BadName));
}

#[test]
fn table_full_and_slot_reuse() {
    let mut table = Table::new();
    let mut pages = Pages::new(usize::MAX);
    for i in 0..NSHM {
        assert_eq!(table.open(std::format!("obj{i}").as_bytes()), Ok(i));
    }
    assert_eq!(table.open(b"one too many"), Err(ShmError::TableFull));
    // An existing name still opens when the table is full.
    assert_eq!(table.open(b"obj7"), Ok(7));
    table.close(7, |p| pages.free(p));
    assert_eq!(table.references(7), 1);
    table.close(7, |p| pages.free(p));
    assert_eq!(table.references(7), 0);
    // The freed slot is the lowest free one: a new name takes it.
    assert_eq!(table.open(b"newcomer"), Ok(7));
}

#[test]
fn trunc_sizes_once_with_whole_pages() {
    let mut table = Table::new();
    let mut pages = Pages::new(usize::MAX);
    let slot = table.open(b"obj").unwrap();
    assert_eq!(table.size(slot), 0);
    assert_eq!(
        trunc(&mut table, &mut pages, slot, 0),
        Err(ShmError::BadSize)
    );
    assert_eq!(
        trunc(&mut table, &mut pages, slot, -5),
        Err(ShmError::BadSize)
    );
    assert_eq!(
        trunc(&mut table, &mut pages, slot, SHM_MAXSIZE as i64 + 1),
        Err(ShmError::BadSize)
    );
    assert_eq!(
        table.size(slot),
        0,
        "failed truncs leave the object unsized"
    );
    assert_eq!(trunc(&mut table, &mut pages, slot, 4097), Ok(8192));
    assert_eq!(table.pages(slot).count(), 2);
    let before: Vec<usize> = table.pages(slot).collect();
    assert_eq!(
        trunc(&mut table, &mut pages, slot, 100),
        Err(ShmError::AlreadySized)
    );
    assert_eq!(
        table.pages(slot).collect::<Vec<_>>(),
        before,
        "second trunc changed nothing"
    );
    assert_eq!(pages.outstanding.len(), 2);
}

#[test]
fn trunc_to_the_maximum() {
    let mut table = Table::new();
    let mut pages = Pages::new(usize::MAX);
    let slot = table.open(b"big").unwrap();
    assert_eq!(
        trunc(&mut table, &mut pages, slot, SHM_MAXSIZE as i64),
        Ok(SHM_MAXSIZE)
    );
    assert_eq!(table.pages(slot).count(), SHM_MAXPAGES);
}

#[test]
fn trunc_out_of_memory_gives_everything_back() {
    let mut table = Table::new();
    let mut pages = Pages::new(3);
    let slot = table.open(b"obj").unwrap();
    assert_eq!(
        trunc(&mut table, &mut pages, slot, 5 * 4096),
        Err(ShmError::OutOfMemory)
    );
    assert!(pages.outstanding.is_empty(), "partial allocation leaked");
    assert_eq!(table.size(slot), 0);
    // With memory, it can still be sized.
    pages.limit = 10;
    assert_eq!(trunc(&mut table, &mut pages, slot, 5 * 4096), Ok(5 * 4096));
}

#[test]
fn last_close_frees_pages_and_slot() {
    let mut table = Table::new();
    let mut pages = Pages::new(usize::MAX);
    let slot = table.open(b"obj").unwrap();
    table.add_reference(slot);
    trunc(&mut table, &mut pages, slot, 3 * 4096).unwrap();
    table.close(slot, |p| pages.free(p));
    assert_eq!(pages.outstanding.len(), 3, "pages freed while referenced");
    table.close(slot, |p| pages.free(p));
    assert!(pages.outstanding.is_empty());
    assert_eq!(table.used_slots(), 0);
    // The name now makes a new, unsized object.
    let again = table.open(b"obj").unwrap();
    assert_eq!(table.size(again), 0);
}

#[test]
fn flags_and_sizes() {
    assert_eq!(Access::from_flags(0), Ok(Access::ReadOnly));
    assert_eq!(Access::from_flags(2), Ok(Access::ReadWrite));
    for bad in [1, 3, -1, 0x200] {
        assert_eq!(Access::from_flags(bad), Err(ShmError::BadFlags));
    }
    assert_eq!(pages_for(1), Ok(1));
    assert_eq!(pages_for(4096), Ok(1));
    assert_eq!(pages_for(4097), Ok(2));
    assert_eq!(pages_for(SHM_MAXSIZE as i64), Ok(SHM_MAXPAGES));
}

#[test]
fn descriptors_lowest_first_and_limited() {
    let mut descriptors = Descriptors::new();
    for i in 0..NSHMPROC {
        assert!(descriptors.has_free());
        assert_eq!(descriptors.alloc(40 + i), Ok(i));
    }
    assert!(!descriptors.has_free());
    assert_eq!(descriptors.alloc(1), Err(ShmError::NoDescriptor));
    assert_eq!(descriptors.remove(5).map(|d| d.slot), Ok(45));
    assert_eq!(descriptors.alloc(9), Ok(5), "lowest free descriptor reused");
    assert_eq!(descriptors.count(), NSHMPROC);
}

#[test]
fn bad_descriptors() {
    let mut descriptors = Descriptors::new();
    assert_eq!(descriptors.get(0), Err(ShmError::BadDescriptor));
    let od = descriptors.alloc(3).unwrap();
    for bad in [NSHMPROC, 16, 1000, usize::MAX] {
        assert_eq!(descriptors.get(bad), Err(ShmError::BadDescriptor));
        assert_eq!(descriptors.remove(bad), Err(ShmError::BadDescriptor));
        assert_eq!(
            descriptors.set_mapped(bad, Access::ReadWrite),
            Err(ShmError::BadDescriptor)
        );
    }
    descriptors.remove(od).unwrap();
    assert_eq!(
        descriptors.get(od),
        Err(ShmError::BadDescriptor),
        "closed descriptor"
    );
}

#[test]
fn one_mapping_per_object_per_process() {
    let mut descriptors = Descriptors::new();
    let first = descriptors.alloc(7).unwrap();
    let second = descriptors.alloc(7).unwrap();
    assert!(!descriptors.maps(7));
    descriptors.set_mapped(first, Access::ReadOnly).unwrap();
    assert!(descriptors.maps(7));
    assert_eq!(
        descriptors.get(first).unwrap().mapped,
        Some(Access::ReadOnly)
    );
    assert_eq!(descriptors.get(second).unwrap().mapped, None);
    descriptors.remove(first).unwrap();
    assert!(
        !descriptors.maps(7),
        "closing the mapping descriptor unmaps"
    );
}
