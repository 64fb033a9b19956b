//! Feeding the editor's meters costs the audio thread no allocation (counting global
//! allocator): the gate, the Compare switch, the input and output rings and the published
//! frame.

use auralis::analysis::{Listener, Targets};
use auralis::controls::Controls;
use auralis::editor::meter_link;
use auralis::session::Session;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocs;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn feeding_the_meters_does_not_allocate() {
    let (mut tap, mut view) = meter_link();
    let mut session = Session::new(
        48_000.0,
        512,
        2,
        Controls::default(),
        Listener::Fixed(Targets::neutral()),
    );
    let mut l = vec![0.0f32; 480];
    let mut r = vec![0.0f32; 480];
    let mut state = 1u32;
    let mut fed = 0;
    let mut total = 0;
    for block in 0..400 {
        if block % 50 == 0 {
            // The editor drew a frame (and took what was waiting, off the audio thread).
            view.drawing();
            view.drain(|_| {}, |_| {});
            let _ = view.frame();
        }
        for (a, b) in l.iter_mut().zip(r.iter_mut()) {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *a = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            *b = -*a;
        }
        let before = allocs();
        let mut chans: [&mut [f32]; 2] = [&mut l, &mut r];
        // Compare is read every block, as the plugin does.
        assert_eq!(tap.compare_for(&session), None);
        if tap.wanted(480, 48_000.0) {
            tap.hear_input(&chans);
            session.process(&mut chans);
            tap.hear_output(&chans, &session);
            fed += 1;
        } else {
            session.process(&mut chans);
        }
        total += allocs() - before;
    }
    assert!(fed > 300, "the meters were fed for {fed} blocks");
    assert_eq!(total, 0, "the audio thread allocated {total} times");
}
