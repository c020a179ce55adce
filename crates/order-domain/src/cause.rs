//! [`Cause`]: the adapter's own error behind a port's error, kept as its `source`, and
//! [`Chain`], which prints an error with every cause below it.
//!
//! Ports cannot name an adapter's error types (the domain knows nothing of sqlx or redis), yet a
//! log line of a failure should show the whole chain — "storage unavailable: error communicating
//! with database: Connection refused". A port's error variant therefore holds a `Cause`: any
//! `std::error::Error`, shared behind an `Arc` so that the port errors stay `Clone`.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// An adapter's error as the source of a port's error.
#[derive(Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync + 'static>);

impl Cause {
    /// Keeps `error` (and its own sources).
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }
}

/// A cause with only a message (no error value behind it).
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Message {}

impl From<String> for Cause {
    fn from(message: String) -> Self {
        Self::new(Message(message))
    }
}

impl From<Box<dyn Error + Send + Sync + 'static>> for Cause {
    fn from(error: Box<dyn Error + Send + Sync + 'static>) -> Self {
        Self(Arc::from(error))
    }
}

impl From<&str> for Cause {
    fn from(message: &str) -> Self {
        Self::from(message.to_owned())
    }
}

// Transparent: the cause shows as the error it holds, and its chain continues below it.
impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// Two causes are equal when they read the same (port errors are compared in tests).
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

/// Displays an error followed by each of its sources: `outer: middle: root`.
#[derive(Debug, Clone, Copy)]
pub struct Chain<'a>(pub &'a dyn Error);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Cause, Chain};

    #[derive(Debug, thiserror::Error)]
    #[error("storage unavailable")]
    struct Outer(#[source] Cause);

    #[derive(Debug, thiserror::Error)]
    #[error("pool timed out")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn a_chain_shows_every_cause_in_order() {
        let root = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let error = Outer(Cause::new(Middle(root)));
        assert_eq!(
            Chain(&error).to_string(),
            "storage unavailable: pool timed out: connection refused"
        );
    }

    #[test]
    fn a_message_cause_ends_the_chain() {
        let error = Outer("db down".into());
        assert_eq!(Chain(&error).to_string(), "storage unavailable: db down");
    }
}
