//! `Analyzer::push` allocates nothing after construction (counting global allocator).

use auralis::analysis::{AnalysisConfig, Analyzer, MasteringMode, ReferenceProfile};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocs;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

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
