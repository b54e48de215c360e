//! Passwords: how they are hashed and which ones an account may choose.
//!
//! The hash parameters: the auth-api hashes with them, and the demo seed
//! writes hashes the auth-api accepts as current.
//!
//! The choice follows NIST SP 800-63B rev. 4 (section 3.1.1.2): a length
//! bound, any characters (compared after Unicode NFKC normalization), no
//! composition rules, and a refusal of passwords that are common, found in
//! breaches or built from the account's own context. Every account must add
//! a second factor before it can see anything personal, so the password is
//! never the only factor: the minimum is the one for a password used with a
//! second factor, [`MIN_CHARS`]. Commonness is judged by `zxcvbn`, whose
//! dictionaries hold the most frequent passwords of public breaches, common
//! names and words, with their keyboard patterns, dates and l33t variants.

use unicode_normalization::UnicodeNormalization;

/// argon2id memory cost in KiB (OWASP's first recommendation: 19 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// argon2id passes over memory.
pub const ARGON2_PASSES: u32 = 2;
/// argon2id lanes.
pub const ARGON2_LANES: u32 = 1;

/// Fewest characters (after normalization) of a password used with a second
/// factor, as every account's is.
pub const MIN_CHARS: usize = 8;
/// Fewest characters of a password that would be the only factor. No account
/// is left with only a password, so this is documentation of the rule's
/// other half, not a limit anything applies.
pub const MIN_CHARS_PASSWORD_ONLY: usize = 15;
/// Most characters accepted (800-63B: at least 64 must be).
pub const MAX_CHARS: usize = 256;
/// Lowest `zxcvbn` score accepted: 3, "safely unguessable" (about 10^8
/// guesses or more). Scores 0 to 2 are the common, breached and patterned
/// passwords the rule refuses.
pub const MIN_SCORE: u8 = 3;

/// The site's own name: a password built on it is context-specific.
pub const SITE_WORDS: &[&str] = &["whatever.gov", "whatever", "whatevergov"];

/// Why a password cannot be chosen. The messages are shown next to the
/// password field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("Use at least {MIN_CHARS} characters.")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("Use at most {MAX_CHARS} characters.")]
    TooLong,
    /// Built from the username, the person's name, their email or the site's.
    #[error(
        "Do not use your name, username, email address or the name of this site in your password."
    )]
    Personal,
    /// Common, found in breaches, or an easily guessed pattern.
    #[error(
        "This password is too common or too easy to guess. Try a longer phrase of unrelated words."
    )]
    Common,
}

/// The form every password is hashed and compared in: Unicode NFKC, so the
/// same characters typed on different keyboards are the same password.
pub fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

/// Whether `password` may be chosen by an account whose context (username,
/// names, email address) is `context`. Takes the password as typed and
/// normalizes it first.
pub fn check(password: &str, context: &[&str]) -> Result<(), Refusal> {
    let password = normalize(password);
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(Refusal::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(Refusal::TooLong);
    }
    let folded = password.to_lowercase();
    let mut words: Vec<String> = SITE_WORDS.iter().map(|w| w.to_string()).collect();
    for item in context {
        let item = normalize(item).to_lowercase();
        // An email address is also its local part.
        if let Some((local, _)) = item.split_once('@') {
            words.push(local.to_string());
        }
        words.push(item);
    }
    words.retain(|w| w.chars().count() >= 3);
    if words.iter().any(|w| folded.contains(w.as_str())) {
        return Err(Refusal::Personal);
    }
    // zxcvbn looks only at a bounded prefix (its matching is quadratic);
    // what follows can only add strength.
    let judged: String = password.chars().take(100).collect();
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let score = u8::from(zxcvbn::zxcvbn(&judged, &inputs).score());
    if score < MIN_SCORE {
        return Err(Refusal::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_after_normalization() {
        // Seven characters however many bytes: too short.
        assert_eq!(check("ÅÅÅÅÅÅÅ", &[]), Err(Refusal::TooShort));
        // U+212B ANGSTROM SIGN is U+00C5 under NFKC; the full-width "Ａ" is "A".
        assert_eq!(normalize("\u{212B}"), "\u{C5}");
        assert_eq!(normalize("ＡＢＣ"), "ABC");
        assert_eq!(
            check(&"x".repeat(MAX_CHARS + 1), &[]),
            Err(Refusal::TooLong)
        );
        // 64 characters must be accepted (800-63B), whatever they are.
        let long = "grape tunnel violet orbit lantern moss quiet harbor spindle cl";
        assert_eq!(long.chars().count(), 62);
        assert_eq!(check(&format!("{long}ay"), &[]), Ok(()));
    }

    #[test]
    fn common_and_breached_passwords_are_refused() {
        for common in [
            "password",
            "password123",
            "qwertyuiop",
            "iloveyou1",
            "12345678",
            "abcdefgh1",
        ] {
            assert_eq!(check(common, &[]), Err(Refusal::Common), "{common}");
        }
    }

    #[test]
    fn context_specific_passwords_are_refused() {
        let context = ["zoe.obrien", "Zoë", "O'Brien", "zoe@example.com"];
        for personal in [
            "zoe.obrien-2026!",
            "MyWhatever.gov#Pass",
            "ZOE@EXAMPLE.COM rocks",
        ] {
            assert_eq!(
                check(personal, &context),
                Err(Refusal::Personal),
                "{personal}"
            );
        }
    }

    #[test]
    fn no_composition_rules_a_long_phrase_of_plain_words_is_fine() {
        // Lower-case letters and spaces only.
        assert_eq!(check("correct staple copper lantern", &[]), Ok(()));
        // Any characters at all.
        assert_eq!(check("冬の朝に珈琲と猫と古い本", &[]), Ok(()));
    }
}
