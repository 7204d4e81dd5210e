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

fn trunc(object: &mut Object, pages: &mut Pages, size: i64) -> Result<usize, ShmError> {
    let pages = core::cell::RefCell::new(pages);
    object.trunc(
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
    let mut names = Names::new();
    let foo = names.open(b"foo").unwrap();
    assert_eq!(foo, 0);
    assert_eq!(names.open(b"foo"), Ok(foo));
    assert_eq!(names.references(foo), 2);
    // A prefix, or a longer name, is another object.
    let fo = names.open(b"fo").unwrap();
    let fooo = names.open(b"fooo").unwrap();
    assert!(fo != foo && fooo != foo && fo != fooo);
    assert_eq!(names.name(foo), b"foo");
    assert_eq!(names.used_slots(), 3);
    assert_eq!(names.open(b""), Err(ShmError::BadName));
    assert_eq!(names.used_slots(), 3, "a bad name takes no slot");
}

#[test]
fn table_full_and_slot_reuse() {
    let mut names = Names::new();
    for i in 0..NSHM {
        assert_eq!(names.open(std::format!("obj{i}").as_bytes()), Ok(i));
    }
    assert_eq!(names.open(b"one too many"), Err(ShmError::TableFull));
    // An existing name still opens when the table is full, the last slot's
    // too.
    assert_eq!(names.open(b"obj7"), Ok(7));
    let last = std::format!("obj{}", NSHM - 1);
    assert_eq!(names.open(last.as_bytes()), Ok(NSHM - 1));
    assert!(!names.close(7), "one reference is left");
    assert_eq!(names.references(7), 1);
    assert!(names.close(7), "the last reference");
    assert_eq!(names.references(7), 0);
    // The freed slot is the lowest free one: a new name takes it, and the
    // old name is gone with its object.
    assert_eq!(names.open(b"newcomer"), Ok(7));
    assert_eq!(names.open(b"obj7"), Err(ShmError::TableFull));
}

#[test]
fn a_closed_name_is_not_found_again() {
    let mut names = Names::new();
    let a = names.open(b"a").unwrap();
    let b = names.open(b"b").unwrap();
    assert!(names.close(a));
    // "b" is found in its slot, and "a" makes a new object in the lowest
    // free slot, which is a's old one.
    assert_eq!(names.open(b"b"), Ok(b));
    assert_eq!(names.open(b"a"), Ok(a));
    assert_eq!(names.references(a), 1, "a new object, one reference");
}

#[test]
fn trunc_sizes_once_with_whole_pages() {
    let mut object = Object::new();
    let mut pages = Pages::new(usize::MAX);
    assert_eq!(object.size(), 0);
    assert_eq!(trunc(&mut object, &mut pages, 0), Err(ShmError::BadSize));
    assert_eq!(trunc(&mut object, &mut pages, -5), Err(ShmError::BadSize));
    assert_eq!(
        trunc(&mut object, &mut pages, SHM_MAXSIZE as i64 + 1),
        Err(ShmError::BadSize)
    );
    assert_eq!(object.size(), 0, "failed truncs leave the object unsized");
    assert_eq!(trunc(&mut object, &mut pages, 4097), Ok(8192));
    assert_eq!(object.pages().count(), 2);
    let before: Vec<usize> = object.pages().collect();
    assert_eq!(
        trunc(&mut object, &mut pages, 100),
        Err(ShmError::AlreadySized)
    );
    assert_eq!(
        object.pages().collect::<Vec<_>>(),
        before,
        "second trunc changed nothing"
    );
    assert_eq!(pages.outstanding.len(), 2);
}

#[test]
fn trunc_to_the_maximum() {
    let mut object = Object::new();
    let mut pages = Pages::new(usize::MAX);
    assert_eq!(
        trunc(&mut object, &mut pages, SHM_MAXSIZE as i64),
        Ok(SHM_MAXSIZE)
    );
    assert_eq!(object.pages().count(), SHM_MAXPAGES);
}

#[test]
fn trunc_out_of_memory_gives_everything_back() {
    let mut object = Object::new();
    let mut pages = Pages::new(3);
    assert_eq!(
        trunc(&mut object, &mut pages, 5 * 4096),
        Err(ShmError::OutOfMemory)
    );
    assert!(pages.outstanding.is_empty(), "partial allocation leaked");
    assert_eq!(object.size(), 0);
    // With memory, it can still be sized.
    pages.limit = 10;
    assert_eq!(trunc(&mut object, &mut pages, 5 * 4096), Ok(5 * 4096));
}

#[test]
fn last_close_then_clear_frees_pages_and_slot() {
    let mut names = Names::new();
    let mut object = Object::new();
    let mut pages = Pages::new(usize::MAX);
    let slot = names.open(b"obj").unwrap();
    names.add_reference(slot);
    trunc(&mut object, &mut pages, 3 * 4096).unwrap();
    assert!(!names.close(slot), "one reference is left");
    assert_eq!(pages.outstanding.len(), 3);
    assert!(names.close(slot));
    object.clear(|p| pages.free(p));
    assert!(pages.outstanding.is_empty());
    assert_eq!(object.size(), 0);
    assert_eq!(names.used_slots(), 0);
    // The name now makes a new object, in the same slot, which can be
    // sized again.
    assert_eq!(names.open(b"obj"), Ok(slot));
    assert_eq!(trunc(&mut object, &mut pages, 4096), Ok(4096));
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
