//! The analysis thread's life: started and stopped hundreds of times (as hosts activate and
//! deactivate a plugin), it leaves no thread running and no memory behind.

use auralis::analysis::thread::live_threads;
use auralis::analysis::Listener;

/// Resident memory of this process, in bytes (Linux).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn two_hundred_start_stop_cycles_leave_no_thread_and_no_memory_growth() {
    let block = vec![0.1f32; 512];
    let cycle = || {
        let mut listener = Listener::threaded(48_000.0, 2).expect("thread");
        listener.hear(&[&block, &block]);
        let _ = listener.targets();
        drop(listener); // stops and joins the thread
    };
    // Warm up the allocator's pools, then measure.
    for _ in 0..20 {
        cycle();
    }
    let before = resident_bytes();
    for _ in 0..200 {
        cycle();
    }
    let after = resident_bytes();
    assert_eq!(live_threads(), 0, "analysis threads still running");
    // Each cycle allocates about 0.5 MB (ring, FFT, meters); a leak of even 10 kB per cycle
    // would show as 2 MB.
    let growth = after.saturating_sub(before);
    assert!(growth < 2 << 20, "resident memory grew by {growth} bytes");
}
