//! The "mail me this" request: what the client sends and the checks it must
//! pass before it is queued. Each failure names its field.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ApiError;

/// A validated request, exactly what is sent upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRequest {
    /// The plan whose information is mailed.
    pub plan_id: String,
    /// Addressee.
    pub name: String,
    /// Street address.
    pub address: String,
    /// City.
    pub city: String,
    /// USPS two-letter state or territory code, upper case.
    pub state: String,
    /// Five-digit ZIP code.
    pub zip: String,
}

/// Longest accepted `plan_id`, `name`, `address` and `city`, in characters.
const MAX_PLAN_ID: usize = 64;
const MAX_NAME: usize = 100;
const MAX_ADDRESS: usize = 200;
const MAX_CITY: usize = 100;

impl MailRequest {
    /// Checks a decoded JSON body field by field. Text is trimmed; the state
    /// is upper-cased. Whether the plan exists is checked against the
    /// database by the caller.
    pub fn from_json(body: &Value) -> Result<Self, ApiError> {
        let Some(object) = body.as_object() else {
            return Err(ApiError::bad_request(
                "invalid_json",
                "the body must be a JSON object with plan_id, name, address, city, state and zip",
            ));
        };
        let plan_id = text(object, "plan_id", MAX_PLAN_ID)?;
        let name = text(object, "name", MAX_NAME)?;
        let address = text(object, "address", MAX_ADDRESS)?;
        let city = text(object, "city", MAX_CITY)?;
        let state = text(object, "state", 2)?.to_ascii_uppercase();
        if !whatever_database::rules::states::is_state_code(&state) {
            return Err(invalid(
                "state",
                format!("state must be a two-letter US state or territory code, got {state:?}"),
            ));
        }
        let zip = text(object, "zip", 5)?;
        if zip.len() != 5 || !zip.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("zip", "zip must be 5 digits"));
        }
        Ok(Self {
            plan_id,
            name,
            address,
            city,
            state,
            zip,
        })
    }

    /// A stable digest of the request, to tell an idempotent replay from a
    /// different request reusing a key.
    pub fn digest(&self) -> Vec<u8> {
        let mut hasher = Sha256::new();
        for part in [
            &self.plan_id,
            &self.name,
            &self.address,
            &self.city,
            &self.state,
            &self.zip,
        ] {
            // Length-prefixed so ("ab","c") and ("a","bc") differ.
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.finalize().to_vec()
    }
}

/// The error for a field whose value is not acceptable.
pub fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::InvalidField {
        field,
        message: message.into(),
    }
}

/// A required, trimmed, non-empty string of at most `max` characters with no
/// control characters.
fn text(object: &Map<String, Value>, field: &'static str, max: usize) -> Result<String, ApiError> {
    let value = match object.get(field) {
        None | Some(Value::Null) => return Err(invalid(field, format!("{field} is required"))),
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err(invalid(field, format!("{field} must be a string"))),
    };
    if value.is_empty() {
        return Err(invalid(field, format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(invalid(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid() -> Value {
        json!({"plan_id":"S5601-012-0","name":"Zoë O'Brien","address":"1 Main St <Apt 2>",
               "city":"Boston","state":"ma","zip":"02134"})
    }

    fn field_of(body: Value) -> (&'static str, String) {
        match MailRequest::from_json(&body).unwrap_err() {
            ApiError::InvalidField { field, message } => (field, message),
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    fn with(key: &str, value: Value) -> Value {
        let mut body = valid();
        body[key] = value;
        body
    }

    #[test]
    fn a_valid_request_is_trimmed_and_upper_cased() {
        let mut body = valid();
        body["city"] = json!("  Boston ");
        let req = MailRequest::from_json(&body).unwrap();
        assert_eq!(req.city, "Boston");
        assert_eq!(req.state, "MA");
        assert_eq!(req.name, "Zoë O'Brien");
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(field_of(with("zip", json!("2134"))).0, "zip");
        assert_eq!(field_of(with("zip", json!("0213a"))).0, "zip");
        assert_eq!(
            field_of(with("zip", json!(2134))),
            ("zip", "zip must be a string".into())
        );
        assert_eq!(field_of(with("state", json!("ZZ"))).0, "state");
        assert_eq!(field_of(with("state", json!("Mass"))).0, "state");
        assert_eq!(field_of(with("name", json!("   "))).0, "name");
        assert_eq!(field_of(with("name", json!("a\u{7}b"))).0, "name");
        assert_eq!(
            field_of(with("address", json!("x".repeat(201)))).0,
            "address"
        );
        assert_eq!(
            field_of(with("city", json!(null))),
            ("city", "city is required".into())
        );
        let mut missing = valid();
        missing.as_object_mut().unwrap().remove("plan_id");
        assert_eq!(field_of(missing).0, "plan_id");
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        assert!(MailRequest::from_json(&with("name", json!("é".repeat(100)))).is_ok());
        assert_eq!(field_of(with("name", json!("é".repeat(101)))).0, "name");
    }

    #[test]
    fn territories_and_military_codes_are_accepted() {
        for code in ["PR", "GU", "DC", "AE"] {
            assert!(
                MailRequest::from_json(&with("state", json!(code))).is_ok(),
                "{code}"
            );
        }
    }

    #[test]
    fn the_digest_tells_requests_apart() {
        let a = MailRequest::from_json(&valid()).unwrap();
        let mut b = a.clone();
        assert_eq!(a.digest(), b.digest());
        b.zip = "02135".into();
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn a_non_object_is_a_bad_request() {
        let err = MailRequest::from_json(&json!([1])).unwrap_err();
        assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
    }
}
