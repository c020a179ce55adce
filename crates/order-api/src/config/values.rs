//! Reading the environment: figment deserialises each concern's variables into its own struct
//! (`HttpVars`, `StoreVars`, …); this module holds what they share — the environment itself,
//! the one-line [`ConfigError`], and the value types whose text format is ours (percentages,
//! rounding modes, durations), so that no price-like value ever passes through a float.

use std::collections::BTreeMap;
use std::fmt;

use figment::Figment;
use figment::error::Kind;
use figment::providers::Serialized;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};

/// A variable that is missing or cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable} {problem}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    /// `variable` has `problem`.
    pub fn new(variable: &str, problem: impl Into<String>) -> Self {
        Self {
            variable: variable.to_owned(),
            problem: problem.into(),
        }
    }
}

/// The environment as configuration sees it: names to trimmed values, blanks left out (an
/// empty variable means "use the default").
#[derive(Clone, Default)]
pub struct Env(BTreeMap<String, String>);

// Values hold secrets: only the names print.
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Env {
    /// From `(name, value)` pairs: the process environment, or a test's list.
    pub fn from_pairs<K: Into<String>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.as_ref().trim().to_owned()))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        )
    }

    /// The process environment.
    pub fn process() -> Self {
        Self::from_pairs(std::env::vars())
    }

    /// The variables of one concern, deserialised into `T` (field names are the variables).
    ///
    /// # Errors
    /// The first variable that is missing or does not parse, named.
    pub fn section<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        // Values go in as strings (no guessing of numbers or floats); each field's type parses
        // its own text.
        Figment::from(Serialized::defaults(&self.0))
            .extract()
            .map_err(|error| {
                let variable = error.path.join(".");
                let problem = match &error.kind {
                    Kind::MissingField(field) => {
                        return ConfigError::new(field, "is required");
                    }
                    Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
                        format!("must be {}, got {actual}", plain(expected))
                    }
                    other => other.to_string(),
                };
                ConfigError::new(&variable, problem)
            })
    }
}

/// serde's names of primitive types in words.
fn plain(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i64" | "i32" => "a whole number".into(),
        "a boolean" | "bool" => "true or false".into(),
        other => other.to_owned(),
    }
}

/// A value that must lie in a range, checked after parsing.
///
/// # Errors
/// `variable` "must be `what`" outside `range`.
pub(super) fn in_range<T: PartialOrd>(
    variable: &str,
    value: T,
    range: impl std::ops::RangeBounds<T>,
    what: &str,
) -> Result<T, ConfigError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::new(variable, format!("must be {what}")))
    }
}

/// Text parsed by `FromStr` with our wording for what it must be.
fn from_text<'de, D, T>(deserializer: D, what: &'static str) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
{
    let text = String::deserialize(deserializer)?;
    text.parse()
        .map_err(|_| de::Error::invalid_value(de::Unexpected::Str(&text), &what))
}

/// A percentage like `2.9` (the ticketing API's fee variables), read as exact basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Percent(pub(super) order_domain::money::Rate);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        order_domain::money::Rate::parse_percent(&text)
            .map(Percent)
            .map_err(|_| {
                de::Error::invalid_value(de::Unexpected::Str(&text), &"a percentage like 2.9")
            })
    }
}

/// `half_up`, `half_even` or `floor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rounding(pub(super) order_domain::money::RoundingMode);

impl<'de> Deserialize<'de> for Rounding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        from_text(deserializer, "half_up, half_even or floor").map(Rounding)
    }
}

/// A positive whole number of minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Minutes(pub(super) time::Duration);

impl<'de> Deserialize<'de> for Minutes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const WHAT: &str = "a positive whole number of minutes";
        let text = String::deserialize(deserializer)?;
        match text.parse::<i64>() {
            Ok(minutes) if minutes > 0 => Ok(Self(time::Duration::minutes(minutes))),
            _ => Err(de::Error::invalid_value(de::Unexpected::Str(&text), &WHAT)),
        }
    }
}

impl Minutes {
    /// The same span for a std timer.
    pub(super) fn std(self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::try_from(self.0.whole_seconds()).unwrap_or(60))
    }
}

/// A whole number of milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Millis(pub(super) std::time::Duration);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ms: u64 = from_text(deserializer, "a whole number of milliseconds")?;
        Ok(Self(std::time::Duration::from_millis(ms)))
    }
}

/// A whole number parsed from text, with its own wording (`a count`, `a port number`).
macro_rules! whole {
    ($name:ident, $ty:ty, $what:literal) => {
        #[doc = concat!("`", stringify!($ty), "`: ", $what, ".")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) struct $name(pub(super) $ty);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                from_text(deserializer, $what).map($name)
            }
        }
    };
}

whole!(Port, u16, "a port number");
whole!(Count, u32, "a count");
whole!(Size, usize, "a size");
whole!(Amount, i64, "an amount in minor units");
whole!(Seconds, u64, "a whole number of seconds");
whole!(Days, i64, "a whole number of days");
whole!(Hours, i64, "a whole number of hours");
whole!(Flag, bool, "true or false");
