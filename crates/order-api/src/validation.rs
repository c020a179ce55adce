//! garde's reports as our field errors: the same `path`, `code`, `message` triples the domain's
//! policies produce, so a client sees one shape whichever layer refused the request.
//!
//! garde messages carry no machine code, so rules speak through `ProblemText` (garde's own
//! i18n hook), which writes `code: message`; custom rules build the same text with [`rule`].

use std::borrow::Cow;
use std::fmt::Display;

use garde::Validate;
use garde::i18n::{
    I18n, InvalidCreditCard, InvalidEmail, InvalidPhoneNumber, InvalidUrl, IpKind, with_i18n,
};
use order_domain::policy::{FieldError, Violations};

use crate::error::ApiError;

/// Validates `value`; `prefix` goes before every path (`query.` for query strings).
///
/// # Errors
/// 422 `validation_failed` with one field error per broken rule.
pub fn validate<T: Validate<Context = ()>>(value: &T, prefix: &str) -> Result<(), ApiError> {
    let Err(report) = with_i18n(ProblemText, || value.validate()) else {
        return Ok(());
    };
    let errors = report
        .iter()
        .map(|(path, error)| {
            let (code, message) = error
                .message()
                .split_once(": ")
                .unwrap_or(("invalid", error.message()));
            let path = path.to_string();
            let path = if path.is_empty() {
                prefix.trim_end_matches('.').to_owned()
            } else {
                format!("{prefix}{path}")
            };
            FieldError::new(path, code, message)
        })
        .collect();
    Err(ApiError::Validation(Violations(errors)))
}

/// The error of a custom rule, in the `code: message` form [`validate`] reads.
pub fn rule(code: &str, message: impl Display) -> garde::Error {
    garde::Error::new(format!("{code}: {message}"))
}

/// garde's messages with our stable codes in front.
struct ProblemText;

impl I18n for ProblemText {
    fn length_lower_than(&self, min: usize) -> Cow<'static, str> {
        format!("too_short: at least {min}").into()
    }
    fn length_greater_than(&self, max: usize) -> Cow<'static, str> {
        format!("too_long: at most {max}").into()
    }
    fn range_lower_than(&self, min: &dyn Display) -> Cow<'static, str> {
        format!("out_of_range: at least {min}").into()
    }
    fn range_greater_than(&self, max: &dyn Display) -> Cow<'static, str> {
        format!("out_of_range: at most {max}").into()
    }
    fn credit_card_invalid(&self, _: InvalidCreditCard) -> Cow<'static, str> {
        "invalid: not a card number".into()
    }
    fn pattern_no_match(&self, pattern: &dyn Display) -> Cow<'static, str> {
        format!("invalid: does not match {pattern}").into()
    }
    fn contains_missing(&self, pattern: &dyn Display) -> Cow<'static, str> {
        format!("invalid: does not contain {pattern}").into()
    }
    fn url_invalid(&self, _: InvalidUrl) -> Cow<'static, str> {
        "invalid: not a URL".into()
    }
    fn prefix_missing(&self, pattern: &dyn Display) -> Cow<'static, str> {
        format!("invalid: does not start with {pattern}").into()
    }
    fn suffix_missing(&self, pattern: &dyn Display) -> Cow<'static, str> {
        format!("invalid: does not end with {pattern}").into()
    }
    fn phone_number_invalid(&self, _: InvalidPhoneNumber) -> Cow<'static, str> {
        "invalid: not a phone number".into()
    }
    fn ip_invalid(&self, _: IpKind) -> Cow<'static, str> {
        "invalid: not an IP address".into()
    }
    fn matches_field_mismatch(&self, field: &dyn Display) -> Cow<'static, str> {
        format!("invalid: does not match {field}").into()
    }
    fn email_invalid(&self, _: InvalidEmail) -> Cow<'static, str> {
        "invalid: not an email address".into()
    }
    fn ascii_invalid(&self) -> Cow<'static, str> {
        "invalid: ASCII only".into()
    }
    fn alphanumeric_invalid(&self) -> Cow<'static, str> {
        "invalid: letters and digits only".into()
    }
    fn required_not_set(&self) -> Cow<'static, str> {
        "required: required".into()
    }
}

#[cfg(test)]
mod tests {
    use super::validate;
    use crate::error::ApiError;

    #[derive(garde::Validate)]
    struct Line {
        #[garde(range(min = 1))]
        quantity: i64,
    }

    #[derive(garde::Validate)]
    struct Body {
        #[garde(dive)]
        items: Vec<Line>,
        #[garde(inner(length(chars, max = 3)))]
        reason: Option<String>,
    }

    #[test]
    fn paths_and_codes_match_the_domain_policies() {
        let body = Body {
            items: vec![
                Line { quantity: 1 },
                Line { quantity: 1 },
                Line { quantity: 0 },
            ],
            reason: Some("four".into()),
        };
        let Err(ApiError::Validation(violations)) = validate(&body, "") else {
            panic!("invalid body accepted");
        };
        let found: Vec<(String, String)> = violations
            .0
            .iter()
            .map(|e| (e.path.clone(), e.code.clone()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("items[2].quantity".to_owned(), "out_of_range".to_owned()),
                ("reason".to_owned(), "too_long".to_owned()),
            ]
        );
    }

    #[test]
    fn a_query_prefix_names_the_parameter() {
        let Err(ApiError::Validation(violations)) = validate(&Line { quantity: 0 }, "query.")
        else {
            panic!("invalid query accepted");
        };
        assert_eq!(violations.0[0].path, "query.quantity");
    }
}
