//! The wire types of the API: request bodies and query strings ([`requests`]), response bodies
//! ([`responses`]) and the OpenAPI schemas of the domain's enums ([`schemas`]). They belong to
//! this adapter; the domain's types convert at the boundary.

pub mod address;
pub mod analytics;
pub mod audit;
pub mod carts;
pub mod edits;
pub mod goods;
pub mod history;
pub mod internal;
pub mod line_cancellation;
pub mod lists;
pub mod money;
pub mod order_body;
pub mod personal_data;
pub mod promotions;
pub mod replays;
pub mod requests;
pub mod responses;
pub mod schemas;
pub mod scope;
pub mod webhooks;

pub use address::*;
pub use analytics::*;
pub use audit::*;
pub use carts::*;
pub use edits::*;
pub use goods::*;
pub use history::*;
pub use internal::*;
pub use line_cancellation::*;
pub use lists::*;
pub use money::*;
pub use order_body::*;
pub use personal_data::*;
pub use promotions::*;
pub use replays::*;
pub use requests::*;
pub use responses::*;
pub use webhooks::*;
