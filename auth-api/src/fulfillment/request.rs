//! The "mail me this" request: what the client sends and the checks it must
//! pass before it is queued. Each failure names its field.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use whatever_database::rules;

use crate::ApiError;
use crate::pseudonym::Pseudonyms;

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
        if !rules::states::is_state_code(&state) {
            return Err(invalid(
                "state",
                format!("state must be a two-letter US state or territory code, got {state:?}"),
            ));
        }
        let zip = text(object, "zip", rules::zip::LEN)?;
        if !rules::zip::is_zip(&zip) {
            return Err(invalid(
                "zip",
                format!("zip must be {}", rules::zip::DESCRIPTION),
            ));
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

    /// A stable pseudonym of the whole request, to tell an idempotent replay
    /// from a different request reusing a key without keeping the address:
    /// the pseudonym of `fulfillment-body:` and every field, each preceded
    /// by its length in bytes (8, big-endian).
    pub fn digest(&self, pseudonyms: &Pseudonyms) -> Vec<u8> {
        let mut input = b"fulfillment-body:".to_vec();
        for part in [
            &self.plan_id,
            &self.name,
            &self.address,
            &self.city,
            &self.state,
            &self.zip,
        ] {
            // Length-prefixed so ("ab","c") and ("a","bc") differ.
            input.extend_from_slice(&(part.len() as u64).to_be_bytes());
            input.extend_from_slice(part.as_bytes());
        }
        pseudonyms.keyed(&input)
    }
}

impl MailRequest {
    /// Who receives the mail, as one comparable string: the name (words in
    /// any order, titles dropped) and the street address (abbreviated the
    /// USPS way, unit designators dropped but their numbers kept) in the
    /// ZIP code. Case, accents, punctuation and spacing make no difference,
    /// so "Zoë O'Brien, 1 Main Street, Apt. 2" and "obrien zoe, 1 MAIN ST #2"
    /// are one recipient.
    pub fn recipient_key(&self) -> String {
        let mut name: Vec<String> = words(&self.name)
            .into_iter()
            .filter(|w| !NAME_TITLES.contains(&w.as_str()))
            .collect();
        name.sort();
        let street: Vec<String> = words(&self.address)
            .into_iter()
            .filter(|w| !UNIT_DESIGNATORS.contains(&w.as_str()))
            .map(|w| abbreviate(&w))
            .collect();
        format!("{}|{}|{}", name.join(" "), street.join(" "), self.zip)
    }
}

/// Words of the name that do not tell people apart.
const NAME_TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "dr", "jr", "sr"];

/// Words that only announce a unit number ("Apt 2", "#2", "Unit 2").
const UNIT_DESIGNATORS: &[&str] = &["apt", "apartment", "unit", "ste", "suite", "no", "number"];

/// USPS standard abbreviations of the street suffixes and directions most
/// often written out.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("street", "st"),
    ("avenue", "ave"),
    ("av", "ave"),
    ("road", "rd"),
    ("drive", "dr"),
    ("boulevard", "blvd"),
    ("lane", "ln"),
    ("court", "ct"),
    ("place", "pl"),
    ("terrace", "ter"),
    ("circle", "cir"),
    ("highway", "hwy"),
    ("parkway", "pkwy"),
    ("square", "sq"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
    ("northeast", "ne"),
    ("northwest", "nw"),
    ("southeast", "se"),
    ("southwest", "sw"),
];

fn abbreviate(word: &str) -> String {
    ABBREVIATIONS
        .iter()
        .find(|(long, _)| *long == word)
        .map_or_else(|| word.to_string(), |(_, short)| (*short).to_string())
}

/// Lower-case words of letters and digits, accents removed. Apostrophes and
/// periods join ("O'Brien" is "obrien", "St." is "st"); any other mark
/// separates.
fn words(text: &str) -> Vec<String> {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            '\'' | '\u{2019}' | '.' => {}
            c if c.is_alphanumeric() => folded.push(unaccented(c)),
            _ => folded.push(' '),
        }
    }
    folded.split_whitespace().map(str::to_string).collect()
}

/// The base letter of the accented Latin letters common in US names.
fn unaccented(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        c => c,
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

    /// Every `pattern` of `openapi.yaml`, with the property it belongs to:
    /// written inline (`zip: { type: string, pattern: '…' }`) or on a line of
    /// its own under the property.
    fn documented_patterns(yaml: &str) -> Vec<(String, String)> {
        let lines: Vec<&str> = yaml.lines().collect();
        let indent = |l: &str| l.len() - l.trim_start().len();
        let mut found = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let Some((before, after)) = line.split_once("pattern: ") else {
                continue;
            };
            let value = after.trim_start_matches(['\'', '"']);
            let value = &value[..value.find(['\'', '"']).unwrap_or(value.len())];
            let property = if before.trim().is_empty() || before.trim() == "{" {
                lines[..i]
                    .iter()
                    .rev()
                    .find(|l| !l.trim().is_empty() && indent(l) < indent(line))
                    .map_or("", |l| l.trim())
            } else {
                before.trim()
            };
            let property = property.split(':').next().unwrap_or("").to_string();
            found.push((property, value.to_string()));
        }
        found
    }

    #[test]
    fn the_documented_zip_pattern_is_the_zip_rule() {
        let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
            .expect("auth-api/openapi.yaml");
        let zips: Vec<String> = documented_patterns(&yaml)
            .into_iter()
            .filter(|(property, _)| property.starts_with("zip"))
            .map(|(_, pattern)| pattern)
            .collect();
        assert!(!zips.is_empty(), "openapi.yaml documents no ZIP pattern");
        for pattern in zips {
            assert_eq!(pattern, rules::zip::PATTERN);
        }
        // The reader itself, on both ways of writing a pattern.
        let yaml = "        zip: { type: string, pattern: '^x$' }\n      zip_code:\n        type: string\n        pattern: \"^y$\"\n";
        assert_eq!(
            documented_patterns(yaml),
            [
                ("zip".into(), "^x$".into()),
                ("zip_code".into(), "^y$".into())
            ]
        );
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
        let key = Pseudonyms::new(&[7; 32]).unwrap();
        let other_key = Pseudonyms::new(&[8; 32]).unwrap();
        let a = MailRequest::from_json(&valid()).unwrap();
        let mut b = a.clone();
        assert_eq!(a.digest(&key), b.digest(&key));
        assert_ne!(a.digest(&key), a.digest(&other_key));
        b.zip = "02135".into();
        assert_ne!(a.digest(&key), b.digest(&key));
    }

    fn recipient(name: &str, address: &str, zip: &str) -> String {
        let mut body = valid();
        body["name"] = json!(name);
        body["address"] = json!(address);
        body["zip"] = json!(zip);
        MailRequest::from_json(&body).unwrap().recipient_key()
    }

    #[test]
    fn one_recipient_however_it_is_written() {
        let base = recipient("Zoë O'Brien", "1 Main Street, Apt. 2", "02134");
        assert_eq!(base, "obrien zoe|1 main st 2|02134");
        for (name, address) in [
            ("ZOE OBRIEN", "1 MAIN ST APT 2"),
            ("  O'Brien,   Zoe ", "1 Main St. #2"),
            ("Ms. Zoe O\u{2019}Brien", "1 main street unit 2"),
            ("zoë o'brien", "1 Main St., Apartment 2"),
        ] {
            assert_eq!(
                recipient(name, address, "02134"),
                base,
                "{name} / {address}"
            );
        }
        assert_eq!(
            recipient("Ann Lee", "12 North Elm Avenue", "02134"),
            recipient("ann lee", "12 N Elm Ave", "02134")
        );
    }

    #[test]
    fn different_people_places_and_units_stay_apart() {
        let base = recipient("Zoe OBrien", "1 Main St Apt 2", "02134");
        assert_ne!(recipient("Zoe OBrian", "1 Main St Apt 2", "02134"), base);
        assert_ne!(recipient("Zoe OBrien", "1 Main St Apt 3", "02134"), base);
        assert_ne!(recipient("Zoe OBrien", "11 Main St Apt 2", "02134"), base);
        assert_ne!(recipient("Zoe OBrien", "1 Main St Apt 2", "02135"), base);
    }

    #[test]
    fn a_non_object_is_a_bad_request() {
        let err = MailRequest::from_json(&json!([1])).unwrap_err();
        assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
    }
}
