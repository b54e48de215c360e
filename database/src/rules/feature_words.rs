//! How feature values and keys read: which values mean "has it" and "does
//! not have it", and how a key becomes a label. The pages print these and
//! the browser script filters and compares by them.

/// Values (compared after [`normalize`]) that mean the plan has the feature.
pub const YES_WORDS: &[&str] = &["yes", "y", "true", "included", "covered"];

/// Values (compared after [`normalize`]) that mean the plan does not.
pub const NO_WORDS: &[&str] = &["no", "n", "false", "not included", "not covered", "none"];

/// Characters of a feature key that read as spaces (`mail_order`,
/// `over-the-counter`).
pub const KEY_SEPARATORS: &[char] = &['_', '-'];

/// ASCII whitespace trimmed, ASCII letters lower-cased: nothing else, so
/// every language applies it alike.
pub fn normalize(value: &str) -> String {
    value
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .to_ascii_lowercase()
}

/// Whether a value means the plan has the feature.
pub fn is_yes(value: &str) -> bool {
    YES_WORDS.contains(&normalize(value).as_str())
}

/// Whether a value means the plan does not have the feature.
pub fn is_no(value: &str) -> bool {
    NO_WORDS.contains(&normalize(value).as_str())
}

/// A feature key as a label: `mail_order_pharmacy` → "Mail order pharmacy".
/// Separators and ASCII whitespace become single spaces and the first
/// character is upper-cased; a key with no word left is shown as it is.
pub fn label(key: &str) -> String {
    let words: Vec<&str> = key
        .split(|c: char| c.is_ascii_whitespace() || KEY_SEPARATORS.contains(&c))
        .filter(|w| !w.is_empty())
        .collect();
    let words = words.join(" ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => key.to_string(),
    }
}

/// A feature value for reading: yes-like values become "Yes", no-like ones
/// "No", the rest is kept.
pub fn display(value: &str) -> &str {
    if is_yes(value) {
        "Yes"
    } else if is_no(value) {
        "No"
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Table {
        values: Vec<ValueCase>,
        labels: Vec<LabelCase>,
    }

    #[derive(serde::Deserialize)]
    struct ValueCase {
        value: String,
        reads: String,
    }

    #[derive(serde::Deserialize)]
    struct LabelCase {
        key: String,
        label: String,
    }

    fn table() -> Table {
        serde_json::from_str(include_str!("../../../tests/rules/feature-words.json"))
            .expect("tests/rules/feature-words.json")
    }

    #[test]
    fn the_shared_value_cases_hold() {
        let table = table();
        assert!(table.values.len() > 10);
        for case in table.values {
            let reads = match (is_yes(&case.value), is_no(&case.value)) {
                (true, false) => "yes",
                (false, true) => "no",
                (false, false) => "other",
                (true, true) => panic!("{:?} is both yes and no", case.value),
            };
            assert_eq!(reads, case.reads, "{:?}", case.value);
        }
    }

    #[test]
    fn the_shared_label_cases_hold() {
        for case in table().labels {
            assert_eq!(label(&case.key), case.label, "{:?}", case.key);
        }
    }

    #[test]
    fn values_display_as_yes_no_or_themselves() {
        assert_eq!(display(" TRUE "), "Yes");
        assert_eq!(display("Not covered"), "No");
        assert_eq!(display("$10 copay"), "$10 copay");
    }
}
