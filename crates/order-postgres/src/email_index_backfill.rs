//! The blind index for orders sealed before it existed: `order-api migrate` opens each contact
//! e-mail with the address keys (SQL has no key) and stores its index (docs/personal-data.md).

use order_domain::ids::OrderId;
use order_domain::order::ContactEmail;
use order_domain::ports::RepositoryError;
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use crate::sealing::{AddressKeys, SealedColumn, SealedValue};
use crate::{corrupt_data, storage};

/// Orders one backfill statement indexes.
const BACKFILL_BATCH: i64 = 1_000;

/// Indexes the contact e-mails sealed before the blind index existed, a batch at a time, and
/// answers how many it indexed; `progress` hears the running count after each batch. Run as the
/// database owner (it reads every tenant), by `order-api migrate`; a second run finds nothing.
///
/// # Errors
/// Storage errors, or an address that no configured key opens (what was indexed stays indexed).
pub async fn index_contact_emails(
    owner: &PgPool,
    keys: &AddressKeys,
    mut progress: impl FnMut(u64),
) -> Result<u64, RepositoryError> {
    let mut indexed = 0_u64;
    loop {
        let rows = sqlx::query!(
            r#"SELECT id, contact_email AS "contact_email!: Json<SealedValue>" FROM orders
               WHERE contact_email IS NOT NULL AND contact_email_index IS NULL
               LIMIT $1"#,
            BACKFILL_BATCH
        )
        .fetch_all(owner)
        .await
        .map_err(storage)?;
        if rows.is_empty() {
            return Ok(indexed);
        }
        let mut ids: Vec<Uuid> = Vec::with_capacity(rows.len());
        let mut hashes: Vec<Vec<u8>> = Vec::with_capacity(rows.len());
        for row in rows {
            let opened = keys.open(
                &row.contact_email.0,
                OrderId::from_uuid(row.id),
                SealedColumn::ContactEmail,
            )?;
            let email = String::from_utf8(opened)
                .ok()
                .and_then(|text| ContactEmail::parse(&text).ok())
                .ok_or_else(|| {
                    corrupt_data(format!("order {}: a sealed e-mail is no e-mail", row.id))
                })?;
            ids.push(row.id);
            hashes.push(keys.email_index().current(&email));
        }
        // Only rows still unindexed: an order erased meanwhile keeps no index.
        let updated = sqlx::query!(
            "UPDATE orders o SET contact_email_index = v.hash
             FROM unnest($1::uuid[], $2::bytea[]) AS v(id, hash)
             WHERE o.id = v.id AND o.contact_email IS NOT NULL AND o.contact_email_index IS NULL",
            &ids,
            &hashes,
        )
        .execute(owner)
        .await
        .map_err(storage)?;
        indexed += updated.rows_affected();
        progress(indexed);
    }
}
