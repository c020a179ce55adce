//! The opaque `cursor` of order lists: base64url of the last order's creation time (Unix
//! microseconds, big-endian) and id. Clients pass back what `nextCursor` gave them; nothing in it
//! is meant to be read or built by hand.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use order_domain::ids::OrderId;
use order_domain::ports::OrderCursor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ApiError;

/// The text form of `cursor`.
pub fn encode(cursor: &OrderCursor) -> String {
    let micros = i64::try_from(cursor.created_at.unix_timestamp_nanos() / 1_000).unwrap_or(0);
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&micros.to_be_bytes());
    bytes[8..].copy_from_slice(cursor.id.as_uuid().as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads a cursor given as `query.cursor`.
///
/// # Errors
/// 422 `invalid` at `query.cursor` when the text is not a cursor this API gave out.
pub fn decode(text: &str) -> Result<OrderCursor, ApiError> {
    let invalid = || ApiError::field("query.cursor", "invalid", "not a cursor from nextCursor");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let bytes: [u8; 24] = bytes.try_into().map_err(|_| invalid())?;
    let mut micros = [0u8; 8];
    micros.copy_from_slice(&bytes[..8]);
    let created_at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(i64::from_be_bytes(micros)) * 1_000)
            .map_err(|_| invalid())?;
    let mut id = [0u8; 16];
    id.copy_from_slice(&bytes[8..]);
    Ok(OrderCursor {
        created_at,
        id: OrderId::from_uuid(Uuid::from_bytes(id)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_to_the_microsecond() {
        let cursor = OrderCursor {
            created_at: time::macros::datetime!(2026-12-01 12:34:56.789012 UTC),
            id: OrderId::from_uuid(Uuid::from_u128(42)),
        };
        let text = encode(&cursor);
        assert_eq!(text.len(), 32);
        assert_eq!(decode(&text).expect("decodes"), cursor);
    }

    #[test]
    fn text_that_is_no_cursor_is_a_field_error() {
        for text in ["", "not base64!", "AAAA", &"A".repeat(40)] {
            assert!(decode(text).is_err(), "{text:?}");
        }
    }
}
