//! The ledger's one clock read: when an event is written (`recorded_at`)
//! and when a checkpoint is taken. A test gives the ledger its own clock.

use std::sync::Arc;

use jiff::Timestamp;

/// Where the ledger reads the time from: this machine's clock, unless a
/// test or an application gives another.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    /// This machine's clock.
    pub fn system() -> Clock {
        Clock(Arc::new(Timestamp::now)) // allow-clock: the ledger's one read of the machine's clock
    }

    /// A clock that reads `read()` (a fixed time, a time moved on by a test).
    pub fn from_fn(read: impl Fn() -> Timestamp + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(read))
    }

    /// Now, to the whole second (truncated: never a moment ahead of the
    /// clock), RFC 3339 in UTC, e.g. "2026-12-04T03:10:07Z".
    pub fn now_text(&self) -> String {
        // Printed to the second: the fraction is dropped, never rounded up.
        (self.0)().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}
