//! The product rules the browser script needs, from their one definition in
//! `whatever_database::rules`: written into `templates/assets/rules.js` in
//! place of its placeholder, so the browser applies exactly what the
//! generator does (see `docs/rules.md`).

use serde_json::json;
use whatever_database::rules::{feature_words, plan_id};

use crate::{Error, Result};

/// What `rules.js` holds in place of its data.
const PLACEHOLDER: &str = "/*@rules@*/ null";

/// The rules' data, as the browser reads them.
pub fn browser_rules() -> serde_json::Value {
    json!({
        "plan_id": {
            "pattern": plan_id::PATTERN,
            "max_len": plan_id::MAX_LEN,
        },
        "feature_words": {
            "yes": feature_words::YES_WORDS,
            "no": feature_words::NO_WORDS,
            "key_separators": feature_words::KEY_SEPARATORS,
        },
    })
}

/// `rules.js` with the rules' data written in.
pub fn fill(template: &[u8]) -> Result<Vec<u8>> {
    let text = std::str::from_utf8(template)
        .map_err(|e| Error::Invalid(format!("templates/assets/rules.js is not UTF-8: {e}")))?;
    if text.matches(PLACEHOLDER).count() != 1 {
        return Err(Error::Invalid(format!(
            "templates/assets/rules.js must hold {PLACEHOLDER:?} exactly once"
        )));
    }
    Ok(text
        .replace(PLACEHOLDER, &browser_rules().to_string())
        .into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_replaces_the_placeholder_once() {
        let filled = fill(b"f(/*@rules@*/ null);").unwrap();
        let text = String::from_utf8(filled).unwrap();
        let data: serde_json::Value =
            serde_json::from_str(&text["f(".len()..text.len() - 2]).unwrap();
        assert_eq!(
            data["plan_id"]["pattern"],
            "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
        );
        assert_eq!(data["feature_words"]["key_separators"], json!(["_", "-"]));
        assert!(fill(b"no placeholder").is_err());
        assert!(fill(b"/*@rules@*/ null /*@rules@*/ null").is_err());
    }
}
