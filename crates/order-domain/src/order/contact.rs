//! How to reach the buyer about an order: the e-mail address the identity provider vouched for
//! (the JWT `email` claim) when the order was placed. Kept with the order so that notifications
//! sent later, from committed events, need neither the buyer's token nor a log line.

use serde::{Deserialize, Serialize};

/// The longest address RFC 5321 lets through a mail server.
pub const MAX_EMAIL_CHARS: usize = 254;

/// An e-mail address of plausible shape: one `@` between a non-empty local part and a domain
/// with a dot, no whitespace, at most [`MAX_EMAIL_CHARS`] characters. Deliverability is the mail
/// provider's business; this only keeps garbage out of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContactEmail(String);

/// Why a string is not a [`ContactEmail`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an e-mail address")]
pub struct InvalidEmail;

impl ContactEmail {
    /// Checks `value`'s shape (surrounding whitespace is dropped).
    ///
    /// # Errors
    /// [`InvalidEmail`] when it is not of the shape described on the type.
    pub fn parse(value: &str) -> Result<Self, InvalidEmail> {
        let value = value.trim();
        let (local, domain) = value.split_once('@').ok_or(InvalidEmail)?;
        let well_formed = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && value.chars().count() <= MAX_EMAIL_CHARS
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidEmail)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What a search by e-mail compares: the address lower-cased, since buyers do not type the
    /// same address in the same case twice (a mail server that tells `Ada@` from `ada@` is rare
    /// enough that finding both is the better mistake).
    pub fn search_key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl TryFrom<String> for ContactEmail {
    type Error = InvalidEmail;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ContactEmail> for String {
    fn from(email: ContactEmail) -> Self {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_of_plausible_shape_are_kept_and_garbage_is_refused() {
        assert_eq!(
            ContactEmail::parse(" ada@example.com ").map(|e| e.as_str().to_owned()),
            Ok("ada@example.com".to_owned())
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@localhost",
            "ada@example.",
            "ada@@example.com",
            "a da@example.com",
            "ada@.example.com",
        ] {
            assert_eq!(ContactEmail::parse(bad), Err(InvalidEmail), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS));
        assert_eq!(ContactEmail::parse(&long), Err(InvalidEmail));
    }

    #[test]
    fn a_stored_address_reads_back_and_a_bad_one_does_not() {
        let email: ContactEmail = serde_json::from_str("\"ada@example.com\"").expect("reads");
        assert_eq!(
            serde_json::to_string(&email).expect("writes"),
            "\"ada@example.com\""
        );
        assert!(serde_json::from_str::<ContactEmail>("\"nope\"").is_err());
    }
}
