//! `Analyzer::push` allocates nothing after construction (counting global allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use auralis::analysis::{AnalysisConfig, Analyzer, MasteringMode, ReferenceProfile};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> usize {
    ALLOCS.with(|c| c.get())
}

#[test]
fn push_does_not_allocate() {
    let mut state = 1u32;
    let mut noise = || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let l: Vec<f32> = (0..48_000 * 12).map(|_| noise()).collect();
    let r: Vec<f32> = (0..48_000 * 12).map(|_| noise() * 0.5).collect();
    let reference = ReferenceProfile::analyse(48_000.0, &[&l, &r]);
    let mut a = Analyzer::new(48_000.0, 2);
    a.set_reference(Some(reference));
    a.set_config(AnalysisConfig {
        mode: MasteringMode::Hybrid,
        ..AnalysisConfig::default()
    });
    let before = allocs();
    for (x, y) in l.chunks(333).zip(r.chunks(333)) {
        a.push(&[x, y]);
    }
    let t = a.targets();
    let _ = a.fingerprint();
    let _ = a.measured();
    a.set_config(AnalysisConfig::default());
    a.set_reference(Some(reference));
    a.reset();
    a.push(&[&l[..48_000], &r[..48_000]]);
    assert_eq!(allocs() - before, 0, "push allocated");
    assert!(t.confidence > 0.5);
}
