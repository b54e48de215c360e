//! Which name shard a drug is listed in (`data/drugs/names/<shard>.json`)
//! and which shard the type-ahead fetches for what was typed: the first
//! [`LEN`] ASCII letters or digits of the text, lower-cased, other
//! characters skipped. The generator files each drug under the shard of its
//! name and of its generic name; the browser looks a query up by the same
//! rule, so both must agree on every text.

/// How many letters or digits make a shard's name.
pub const LEN: usize = 2;

/// The shard of `text`; `None` for a text without any ASCII letter or
/// digit. A text with only one gives a one-character shard (which no name
/// of two or more letters is listed under).
pub fn shard_of(text: &str) -> Option<String> {
    let prefix: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_ascii_alphanumeric())
        .take(LEN)
        .collect();
    (!prefix.is_empty()).then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Case {
        text: String,
        shard: Option<String>,
    }

    #[test]
    fn the_shared_cases_hold() {
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../../../tests/rules/drug-shards.json"))
                .expect("tests/rules/drug-shards.json");
        assert!(cases.len() > 10);
        for c in cases {
            assert_eq!(shard_of(&c.text), c.shard, "{:?}", c.text);
        }
    }
}
