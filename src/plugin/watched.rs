//! Non-parameter state saved with the plugin (held targets, the reference profile), readable by
//! the audio thread without waiting.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

/// A value behind a mutex with a version number that changes whenever the host or the editor
/// sets it. The audio thread compares versions (an atomic load) and only then `try_lock`s:
/// it never waits, and retries on its next block if the lock is busy.
pub struct Watched<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    value: Mutex<T>,
    version: AtomicU32,
}

impl<T> Clone for Watched<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Copy> Watched<T> {
    pub fn new(value: T) -> Self {
        Self {
            inner: Arc::new(Inner {
                value: Mutex::new(value),
                version: AtomicU32::new(0),
            }),
        }
    }

    /// The version: changes whenever [`Watched::set`] is called.
    pub fn version(&self) -> u32 {
        self.inner.version.load(Ordering::Acquire)
    }

    /// Stores a new value and announces it (main thread: state load, editor).
    pub fn set(&self, value: T) {
        *self.lock() = value;
        self.inner.version.fetch_add(1, Ordering::AcqRel);
    }

    /// The value (main thread; waits for the lock).
    pub fn get(&self) -> T {
        *self.lock()
    }

    /// The value if the lock is free (audio thread).
    pub fn try_get(&self) -> Option<T> {
        self.inner.value.try_lock().ok().map(|v| *v)
    }

    /// Stores a value without announcing it, if the lock is free: for the audio thread keeping
    /// what it uses in the saved state. Returns false if it must try again later.
    pub fn try_store_quietly(&self, value: T) -> bool {
        match self.inner.value.try_lock() {
            Ok(mut v) => {
                *v = value;
                true
            }
            Err(_) => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, T> {
        self.inner
            .value
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<'a, T> PersistentField<'a, T> for Watched<T>
where
    T: Copy + Send + Serialize + Deserialize<'a>,
{
    fn set(&self, new_value: T) {
        Watched::set(self, new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&T) -> R,
    {
        f(&self.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_announces_a_new_version_and_quiet_stores_do_not() {
        let w = Watched::new(1u32);
        let v0 = w.version();
        w.set(2);
        assert_ne!(w.version(), v0);
        assert_eq!(w.try_get(), Some(2));
        let v1 = w.version();
        assert!(w.try_store_quietly(3));
        assert_eq!(w.version(), v1);
        assert_eq!(w.get(), 3);
    }

    #[test]
    fn a_busy_lock_is_reported_not_waited_for() {
        let w = Watched::new(5u8);
        let guard = w.inner.value.lock().unwrap();
        assert_eq!(w.try_get(), None);
        assert!(!w.try_store_quietly(6));
        drop(guard);
        assert_eq!(w.try_get(), Some(5));
    }
}
