//! The client's own data on an order (the ticketing API's `metadata`): a JSON object the service
//! stores and returns but never interprets, bounded so that it cannot grow an order without limit.

use serde::{Deserialize, Serialize};

/// The most `metadata` may take, serialized as compact JSON.
pub const MAX_METADATA_BYTES: usize = 4 * 1024;

/// A JSON object of at most [`MAX_METADATA_BYTES`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderMetadata(serde_json::Map<String, serde_json::Value>);

/// Why a value cannot be an order's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMetadata {
    /// Not a JSON object.
    #[error("metadata must be a JSON object")]
    NotAnObject,
    /// Larger than [`MAX_METADATA_BYTES`].
    #[error("metadata takes {bytes} bytes; at most {MAX_METADATA_BYTES} are kept")]
    TooLarge {
        /// Its compact JSON size.
        bytes: usize,
    },
}

impl OrderMetadata {
    /// Checks `value`: an object, at most [`MAX_METADATA_BYTES`] as compact JSON.
    ///
    /// # Errors
    /// [`InvalidMetadata`] naming the problem.
    pub fn new(value: serde_json::Value) -> Result<Self, InvalidMetadata> {
        let serde_json::Value::Object(map) = value else {
            return Err(InvalidMetadata::NotAnObject);
        };
        let bytes = serde_json::to_vec(&map).map_or(usize::MAX, |json| json.len());
        if bytes > MAX_METADATA_BYTES {
            return Err(InvalidMetadata::TooLarge { bytes });
        }
        Ok(Self(map))
    }

    /// The object.
    pub fn as_map(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }

    /// The object as a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::Value::Object(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn metadata_is_a_bounded_object() {
        let kept = OrderMetadata::new(json!({ "source": "web", "campaign": { "id": 7 } }))
            .expect("object");
        assert_eq!(kept.as_map().len(), 2);
        assert_eq!(
            OrderMetadata::new(json!(["web"])),
            Err(InvalidMetadata::NotAnObject)
        );
        let big = json!({ "note": "x".repeat(MAX_METADATA_BYTES) });
        assert!(matches!(
            OrderMetadata::new(big),
            Err(InvalidMetadata::TooLarge { .. })
        ));
    }
}
