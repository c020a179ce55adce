//! Personal data sealed at rest (docs/product/running.md): the shipping and billing addresses and
//! the contact e-mail, each with AES-256-GCM under a key id, so keys can rotate.
//!
//! The first configured key seals every new address; every configured key still opens what it
//! sealed, so an operator rotates by putting a new key first and drops an old one only after
//! nothing is sealed under it any more (docs/persistence.md). Each address is bound to its order
//! and column by the additional authenticated data: a sealed value copied onto another order, or
//! from the billing to the shipping column, fails to open instead of showing the wrong address.
//! Nonces are random (96 bits, from aws-lc-rs): safe for far more addresses than one key will seal
//! before it rotates. Key bytes live only inside aws-lc-rs's key objects and never print.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use order_domain::ids::OrderId;
use order_domain::ports::RepositoryError;
use serde::{Deserialize, Serialize};

use crate::blind_index::EmailIndexKeys;
use crate::{corrupt, corrupt_data};

/// Which column a sealed value belongs to (part of what the seal authenticates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SealedColumn {
    Shipping,
    Billing,
    ContactEmail,
    /// A webhook subscription's signing secrets, bound to the subscription's id.
    WebhookSecrets,
    /// The buyer (name, billing address, e-mail) named on an invoice or credit note.
    DocumentBuyer,
}

impl SealedColumn {
    fn name(self) -> &'static str {
        match self {
            Self::Shipping => "shipping_address",
            Self::Billing => "billing_address",
            Self::ContactEmail => "contact_email",
            Self::WebhookSecrets => "webhook_secrets",
            Self::DocumentBuyer => "document_buyer",
        }
    }
}

/// The address keys: the first seals, all open.
#[derive(Debug)]
pub struct AddressKeys {
    keys: Vec<(String, RandomizedNonceKey)>,
    /// The contact e-mails' blind index keys, derived from these (one per key, same order).
    email_index: EmailIndexKeys,
}

/// Why a key list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidAddressKeys(String);

impl AddressKeys {
    /// Parses `id:base64,id:base64` (standard base64 of 32 random bytes each); the first entry is
    /// the current key. Generate one with `openssl rand -base64 32`.
    ///
    /// # Errors
    /// An empty list, an entry without `id:`, a duplicate id, or a key that is not base64 of
    /// exactly 32 bytes — the message says which entry, never the key.
    pub fn parse(list: &str) -> Result<Self, InvalidAddressKeys> {
        let mut keys: Vec<(String, RandomizedNonceKey)> = Vec::new();
        let mut email_index = EmailIndexKeys::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, encoded) = entry.split_once(':').ok_or_else(|| {
                InvalidAddressKeys(
                    "must be a list of id:base64-key pairs separated by commas".into(),
                )
            })?;
            let id = id.trim();
            if id.is_empty() || keys.iter().any(|(known, _)| known == id) {
                return Err(InvalidAddressKeys(format!(
                    "key ids must be present and unique (entry {id:?})"
                )));
            }
            let bytes = STANDARD
                .decode(encoded.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| {
                    InvalidAddressKeys(format!(
                        "the key {id:?} must be the base64 of 32 bytes (openssl rand -base64 32)"
                    ))
                })?;
            let key = RandomizedNonceKey::new(&AES_256_GCM, &bytes)
                .map_err(|_| InvalidAddressKeys(format!("the key {id:?} was refused")))?;
            email_index.derive_from(&bytes);
            keys.push((id.to_owned(), key));
        }
        if keys.is_empty() {
            return Err(InvalidAddressKeys(
                "needs at least one id:base64-key entry".into(),
            ));
        }
        Ok(Self { keys, email_index })
    }

    /// The contact e-mails' blind index keys (`blind_index.rs`).
    pub(crate) fn email_index(&self) -> &EmailIndexKeys {
        &self.email_index
    }

    /// The id of the key new addresses are sealed under.
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    /// `plaintext` sealed under the current key, bound to `order` and `column`.
    pub(crate) fn seal(
        &self,
        order: OrderId,
        column: SealedColumn,
        plaintext: &[u8],
    ) -> Result<SealedValue, RepositoryError> {
        self.seal_bound(binding(order, column), plaintext)
    }

    /// `plaintext` sealed under the current key, bound to `context`, as bytes to keep outside
    /// PostgreSQL (an idempotent answer in Redis, bound to its key there): whatever holds them
    /// learns nothing of what they say.
    ///
    /// # Errors
    /// When the cipher fails (it does not, for inputs below 64 GiB).
    pub fn seal_opaque(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, RepositoryError> {
        let sealed = self.seal_bound(opaque_binding(context), plaintext)?;
        serde_json::to_vec(&sealed).map_err(corrupt)
    }

    /// The plaintext of bytes [`AddressKeys::seal_opaque`] made for `context`.
    ///
    /// # Errors
    /// When they were sealed for another context, under a key no longer configured, or are not
    /// such bytes.
    pub fn open_opaque(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, RepositoryError> {
        let sealed: SealedValue = serde_json::from_slice(sealed).map_err(corrupt)?;
        self.open_bound(&sealed, opaque_binding(context))
    }

    fn seal_bound(&self, aad: Vec<u8>, plaintext: &[u8]) -> Result<SealedValue, RepositoryError> {
        let (id, key) = &self.keys[0];
        let mut in_out = plaintext.to_vec();
        let nonce = key
            .seal_in_place_append_tag(Aad::from(aad), &mut in_out)
            .map_err(|_| corrupt_data("an address could not be sealed"))?;
        Ok(SealedValue {
            kid: id.clone(),
            nonce: STANDARD.encode(nonce.as_ref()),
            ciphertext: STANDARD.encode(in_out),
        })
    }

    /// The plaintext of `sealed`, which must have been sealed for `order` and `column` under one
    /// of the configured keys.
    pub(crate) fn open(
        &self,
        sealed: &SealedValue,
        order: OrderId,
        column: SealedColumn,
    ) -> Result<Vec<u8>, RepositoryError> {
        self.open_bound(sealed, binding(order, column))
    }

    fn open_bound(&self, sealed: &SealedValue, aad: Vec<u8>) -> Result<Vec<u8>, RepositoryError> {
        let (_, key) = self
            .keys
            .iter()
            .find(|(id, _)| *id == sealed.kid)
            .ok_or_else(|| {
                corrupt_data(format!(
                    "an address is sealed under key {:?}, which is not configured \
                     (ADDRESS_ENCRYPTION_KEYS)",
                    sealed.kid
                ))
            })?;
        let nonce: [u8; NONCE_LEN] = STANDARD
            .decode(&sealed.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| corrupt_data("a sealed address has a malformed nonce"))?;
        let mut in_out = STANDARD
            .decode(&sealed.ciphertext)
            .map_err(|_| corrupt_data("a sealed address is not base64"))?;
        let plaintext = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut in_out,
            )
            .map_err(|_| corrupt_data("a sealed address does not open for its order and column"))?;
        Ok(plaintext.to_vec())
    }
}

/// What a seal authenticates besides the plaintext. The prefix predates the contact column and
/// stays, so that every value sealed so far still opens.
fn binding(order: OrderId, column: SealedColumn) -> Vec<u8> {
    format!("order-address:v1:{order}:{}", column.name()).into_bytes()
}

/// What an opaque seal authenticates: its context, under a prefix no column binding has.
fn opaque_binding(context: &str) -> Vec<u8> {
    format!("opaque:v1:{context}").into_bytes()
}

/// A sealed value as it is stored (a jsonb document of this adapter's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SealedValue {
    /// The id of the key it was sealed under.
    kid: String,
    /// Base64 of the 96-bit nonce.
    nonce: String,
    /// Base64 of the ciphertext with its 128-bit tag.
    ciphertext: String,
}

#[cfg(test)]
impl SealedValue {
    /// The id of the key it was sealed under.
    pub(crate) fn key_id(&self) -> &str {
        &self.kid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const NEW: &str = "HxwdHhscGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";

    fn order(n: u128) -> OrderId {
        OrderId::from_uuid(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_sealed_address_opens_for_its_order_and_column_only() {
        let keys = AddressKeys::parse(&format!("k1:{OLD}")).expect("keys");
        let sealed = keys
            .seal(order(1), SealedColumn::Shipping, b"Ada Lovelace")
            .expect("seal");
        assert!(!sealed.ciphertext.contains("Ada"));
        assert_eq!(
            keys.open(&sealed, order(1), SealedColumn::Shipping)
                .expect("open"),
            b"Ada Lovelace"
        );
        assert!(
            keys.open(&sealed, order(2), SealedColumn::Shipping)
                .is_err()
        );
        assert!(keys.open(&sealed, order(1), SealedColumn::Billing).is_err());
    }

    #[test]
    fn after_a_rotation_the_new_key_seals_and_the_old_one_still_opens() {
        let before = AddressKeys::parse(&format!("k1:{OLD}")).expect("keys");
        let sealed_before = before
            .seal(order(1), SealedColumn::Billing, b"1 Main St")
            .expect("seal");
        let after = AddressKeys::parse(&format!("k2:{NEW}, k1:{OLD}")).expect("keys");
        assert_eq!(after.current_id(), "k2");
        assert_eq!(
            after
                .open(&sealed_before, order(1), SealedColumn::Billing)
                .expect("open"),
            b"1 Main St"
        );
        let sealed_after = after
            .seal(order(1), SealedColumn::Billing, b"1 Main St")
            .expect("seal");
        assert_eq!(sealed_after.key_id(), "k2");
        let only_new = AddressKeys::parse(&format!("k2:{NEW}")).expect("keys");
        assert!(
            only_new
                .open(&sealed_before, order(1), SealedColumn::Billing)
                .is_err()
        );
    }

    #[test]
    fn an_opaque_seal_hides_its_bytes_and_opens_for_its_context_only() {
        let keys = AddressKeys::parse(&format!("k1:{OLD}")).expect("keys");
        let sealed = keys
            .seal_opaque("idem:tenant:user:key-1", br#"{"secret":"whsec_abc"}"#)
            .expect("seal");
        assert!(!String::from_utf8_lossy(&sealed).contains("whsec_abc"));
        assert_eq!(
            keys.open_opaque("idem:tenant:user:key-1", &sealed)
                .expect("open"),
            br#"{"secret":"whsec_abc"}"#
        );
        assert!(keys.open_opaque("idem:tenant:user:key-2", &sealed).is_err());
        assert!(
            keys.open_opaque("idem:tenant:user:key-1", b"plain")
                .is_err()
        );
    }

    #[test]
    fn malformed_key_lists_are_refused_without_showing_the_key() {
        for list in ["", "k1", &format!("k1:{OLD},k1:{NEW}"), "k1:c2hvcnQ="] {
            let error = AddressKeys::parse(list).expect_err(list);
            assert!(!error.to_string().contains("c2hvcnQ"), "{error}");
        }
    }
}
