//! The blind index of contact e-mails: a keyed hash stored beside each sealed address, so that
//! admins can find an order by e-mail while the database never holds the address in clear
//! (docs/personal-data.md).
//!
//! Each address key gets an index key derived from it with HKDF-SHA256 under a label of its own,
//! so the same secret never serves two purposes. A new order is indexed under the current key; a
//! search hashes the address under every configured key, which keeps orders indexed before a key
//! rotation findable for as long as their key stays configured (as long as their address opens).
//! What is hashed is the address's search key (lower-cased), so a search finds it in any case.

use aws_lc_rs::{hkdf, hmac};
use order_domain::order::ContactEmail;

/// What separates the index keys from the sealing keys they are derived from.
const INDEX_KEY_LABEL: &[u8] = b"order-service:contact-email-blind-index:v1";

/// One index key per address key, in the same order (the first indexes new orders).
#[derive(Debug)]
pub(crate) struct EmailIndexKeys(Vec<hmac::Key>);

impl EmailIndexKeys {
    pub(crate) fn new() -> Self {
        Self(Vec::new())
    }

    /// Derives the index key of an address key's bytes and appends it.
    pub(crate) fn derive_from(&mut self, address_key: &[u8]) {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, INDEX_KEY_LABEL).extract(address_key);
        let okm = prk
            .expand(&[INDEX_KEY_LABEL], hmac::HMAC_SHA256)
            .expect("HMAC-SHA256's key length is a valid HKDF output length");
        self.0.push(hmac::Key::from(okm));
    }

    /// The index of `email` under the current key: what a new order stores.
    pub(crate) fn current(&self, email: &ContactEmail) -> Vec<u8> {
        hash(&self.0[0], email)
    }

    /// The index of `email` under every configured key: what a search looks for.
    pub(crate) fn candidates(&self, email: &ContactEmail) -> Vec<Vec<u8>> {
        self.0.iter().map(|key| hash(key, email)).collect()
    }
}

fn hash(key: &hmac::Key, email: &ContactEmail) -> Vec<u8> {
    hmac::sign(key, email.search_key().as_bytes())
        .as_ref()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secrets: &[&[u8]]) -> EmailIndexKeys {
        let mut keys = EmailIndexKeys::new();
        for secret in secrets {
            keys.derive_from(secret);
        }
        keys
    }

    fn email(value: &str) -> ContactEmail {
        ContactEmail::parse(value).expect("an e-mail")
    }

    #[test]
    fn the_same_address_in_another_case_has_the_same_index() {
        let keys = keys(&[b"first key of thirty-two bytes!!!"]);
        assert_eq!(
            keys.current(&email("Ada@Example.org")),
            keys.current(&email("ada@example.org"))
        );
        assert_ne!(
            keys.current(&email("ada@example.org")),
            keys.current(&email("bob@example.org"))
        );
    }

    #[test]
    fn the_index_depends_on_the_key_and_is_not_the_bare_hash_of_the_address() {
        let one = keys(&[b"first key of thirty-two bytes!!!"]);
        let other = keys(&[b"other key of thirty-two bytes!!!"]);
        let address = email("ada@example.org");
        assert_ne!(one.current(&address), other.current(&address));
        let unkeyed = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"ada@example.org");
        assert_ne!(one.current(&address), unkeyed.as_ref());
        assert_eq!(one.current(&address).len(), 32);
    }

    #[test]
    fn a_search_looks_under_every_key_the_current_one_first() {
        let rotated = keys(&[
            b"other key of thirty-two bytes!!!",
            b"first key of thirty-two bytes!!!",
        ]);
        let before_rotation = keys(&[b"first key of thirty-two bytes!!!"]);
        let address = email("ada@example.org");
        let candidates = rotated.candidates(&address);
        assert_eq!(candidates.len(), 2);
        assert_eq!(candidates[0], rotated.current(&address));
        assert_eq!(candidates[1], before_rotation.current(&address));
    }
}
