//! A panic while working on a file (a decoder's bug on a damaged file, say) becomes that file's
//! error: reported on one line, and the rest of the batch goes on.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};

use anyhow::{anyhow, Result};

thread_local! {
    /// Whether this thread is inside [`guard`].
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    /// The last panic's message and place on this thread.
    static MESSAGE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Installs a panic hook that, inside [`guard`], keeps the message for the error instead of
/// printing it; elsewhere it prints as usual.
pub fn install_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if GUARDED.with(Cell::get) {
            let text = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            MESSAGE.with(|m| *m.borrow_mut() = format!("{text}{place}"));
        } else {
            default(info);
        }
    }));
}

/// Runs `work`; a panic inside it becomes an error saying so, after `what` (a file's name, or
/// empty).
pub fn guard<T>(what: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    let outer = GUARDED.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(work));
    GUARDED.with(|g| g.set(outer));
    result.unwrap_or_else(|_| {
        let message = MESSAGE.with(|m| std::mem::take(&mut *m.borrow_mut()));
        let what = if what.is_empty() {
            String::new()
        } else {
            format!("{what}: ")
        };
        Err(anyhow!(
            "{what}internal error ({message}); please report it"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        install_hook();
        let r: Result<()> = guard("a.wav", || panic!("decoder fell over"));
        let e = format!("{:#}", r.unwrap_err());
        assert!(
            e.starts_with("a.wav: internal error (decoder fell over at src/cli/panics.rs"),
            "{e}"
        );
        assert_eq!(guard("", || Ok(3)).unwrap(), 3);
    }
}
