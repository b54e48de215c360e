//! Passwords: how they are hashed and which ones an account may choose.
//!
//! The hash parameters: the auth-api hashes with them, and the demo seed
//! writes hashes the auth-api accepts as current.
//!
//! The choice follows NIST SP 800-63B rev. 4 (section 3.1.1.2): a length
//! bound, any characters (compared after Unicode NFKC normalization), no
//! composition rules, and a refusal of passwords that are common, found in
//! breaches or built from the account's own context. The minimum length
//! depends on what the password guards ([`Guards`]): [`MIN_CHARS`] beside a
//! second factor (an account that has one, or must add one before it sees
//! anything personal), [`MIN_CHARS_PASSWORD_ONLY`] when it is the only
//! factor. Commonness is judged by `zxcvbn`, whose dictionaries hold the
//! most frequent passwords of public breaches, common names and words, with
//! their keyboard patterns, dates and l33t variants.
//!
//! The rule is in two steps of very different cost: [`precheck`] (length
//! and context, microseconds) and [`judge`] (`zxcvbn`, up to tens of
//! milliseconds). A server does the first with the other field checks, and
//! the second only once the request is counted by its limits, off its
//! request threads.

use unicode_normalization::UnicodeNormalization;

/// argon2id memory cost in KiB (OWASP's first recommendation: 19 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// argon2id passes over memory.
pub const ARGON2_PASSES: u32 = 2;
/// argon2id lanes.
pub const ARGON2_LANES: u32 = 1;

/// Fewest characters (after normalization) of a password used with a second
/// factor.
pub const MIN_CHARS: usize = 8;
/// Fewest characters of a password that is the only factor: an account from
/// before second factors (the demo and operator-made accounts) that has
/// none.
pub const MIN_CHARS_PASSWORD_ONLY: usize = 15;
/// Most characters accepted (800-63B: at least 64 must be).
pub const MAX_CHARS: usize = 256;
/// Lowest `zxcvbn` score accepted: 3, "safely unguessable" (about 10^8
/// guesses or more). Scores 0 to 2 are the common, breached and patterned
/// passwords the rule refuses.
pub const MIN_SCORE: u8 = 3;

/// Most characters, from the start, `zxcvbn` judges: what follows can only
/// add strength, so a long passphrase is judged by a prefix that is itself
/// long.
pub const JUDGED_CHARS: usize = 48;

/// What `zxcvbn` may be given to judge, in its own unit of work: characters
/// squared (it matches every substring against its dictionaries) times the
/// l33t substitution tables it tries (it matches every substring once more
/// per table). Measured at 0.65 to 1.1 µs of CPU a unit, so at most about
/// 20 ms whatever the input; unbounded, a crafted 100-character password
/// took 1.5 s to 3.7 s. Plain text gets exactly [`JUDGED_CHARS`]:
/// `BASE_TABLES` · 48².
pub const JUDGE_BUDGET: usize = BASE_TABLES * JUDGED_CHARS * JUDGED_CHARS;

/// The least a prefix counts for in [`JUDGE_BUDGET`], however few tables:
/// dates, repeats and keyboard walks cost about as much as eight tables.
const BASE_TABLES: usize = 8;

/// `zxcvbn`'s l33t table (its version 3): the symbols it reads as each
/// letter. It tries every combination of one symbol per letter that the
/// password holds.
const L33T: &[(char, &str)] = &[
    ('a', "4@"),
    ('b', "8"),
    ('c', "({[<"),
    ('e', "3"),
    ('g', "69"),
    ('i', "1!|"),
    ('l', "1|7"),
    ('o', "0"),
    ('s', "$5"),
    ('t', "+7"),
    ('x', "%"),
    ('z', "2"),
];

/// The site's own name: a password built on it is context-specific.
pub const SITE_WORDS: &[&str] = &["whatever.gov", "whatever", "whatevergov"];

/// What a password will guard, which decides its minimum length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guards {
    /// An account with a second factor, or one that must add one before it
    /// sees anything personal (every account created through the API).
    WithSecondFactor,
    /// An account with no second factor that may go on without one: the
    /// password is the only factor.
    Alone,
}

impl Guards {
    /// The fewest characters such a password may have.
    pub fn min_chars(self) -> usize {
        match self {
            Self::WithSecondFactor => MIN_CHARS,
            Self::Alone => MIN_CHARS_PASSWORD_ONLY,
        }
    }
}

/// Why a password cannot be chosen. The messages are shown next to the
/// password field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("Use at least {MIN_CHARS} characters.")]
    TooShort,
    /// Fewer than [`MIN_CHARS_PASSWORD_ONLY`] characters, for an account
    /// whose only factor the password is.
    #[error(
        "Use at least {MIN_CHARS_PASSWORD_ONLY} characters: your password is the only thing \
         that protects your account. With a second factor, {MIN_CHARS} are enough."
    )]
    TooShortAlone,
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
/// names, email address) is `context` and whose password guards as
/// `guards` says: both steps, [`precheck`] then [`judge`]. Takes the
/// password as typed.
pub fn check(password: &str, context: &[&str], guards: Guards) -> Result<(), Refusal> {
    let password = precheck(password, context, guards)?;
    judge(&password, context)
}

/// The cheap half of the rule: length (after normalization) and context.
/// Returns the normalized password, for [`judge`] and for hashing.
pub fn precheck(password: &str, context: &[&str], guards: Guards) -> Result<String, Refusal> {
    let password = normalize(password);
    let chars = password.chars().count();
    if chars < guards.min_chars() {
        return Err(match guards {
            Guards::WithSecondFactor => Refusal::TooShort,
            Guards::Alone => Refusal::TooShortAlone,
        });
    }
    if chars > MAX_CHARS {
        return Err(Refusal::TooLong);
    }
    let folded = password.to_lowercase();
    if context_words(context)
        .iter()
        .any(|w| folded.contains(w.as_str()))
    {
        return Err(Refusal::Personal);
    }
    Ok(password)
}

/// The costly half of the rule: whether `zxcvbn` rates the first
/// [`JUDGED_CHARS`] characters of `normalized` (a password [`precheck`]
/// passed) at least [`MIN_SCORE`]. At most a few milliseconds of CPU
/// whatever the input, but blocking: a server runs it off its request
/// threads.
pub fn judge(normalized: &str, context: &[&str]) -> Result<(), Refusal> {
    let judged = judged_prefix(normalized);
    let words = context_words(context);
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let score = u8::from(zxcvbn::zxcvbn(judged, &inputs).score());
    if score < MIN_SCORE {
        return Err(Refusal::Common);
    }
    Ok(())
}

/// The part of a password `zxcvbn` is given: its longest prefix of at most
/// [`JUDGED_CHARS`] characters whose work stays within [`JUDGE_BUDGET`].
/// A password of letters, digits and a few symbols is judged on 48
/// characters; one packed with l33t symbols on fewer (12 when it holds
/// nearly all of them), whose strength the symbols make anyway.
pub fn judged_prefix(password: &str) -> &str {
    let mut present: Vec<char> = Vec::new();
    let mut end = 0;
    for (n, (at, c)) in password.char_indices().enumerate().take(JUDGED_CHARS) {
        if !present.contains(&c) && L33T.iter().any(|(_, symbols)| symbols.contains(c)) {
            present.push(c);
        }
        let chars = n + 1;
        if chars * chars * substitution_tables(&present).max(BASE_TABLES) > JUDGE_BUDGET {
            break;
        }
        end = at + c.len_utf8();
    }
    &password[..end]
}

/// At most how many substitution tables `zxcvbn` tries for a password
/// holding the l33t symbols `present`: for each letter, the choice among its
/// symbols present, and once more for each of them another letter may take
/// too (`1`, `|` and `7`: its enumeration keeps both readings).
fn substitution_tables(present: &[char]) -> usize {
    let shared = |c: char| L33T.iter().filter(|(_, s)| s.contains(c)).count() > 1;
    L33T.iter()
        .map(|(_, symbols)| {
            let here = symbols.chars().filter(|c| present.contains(c));
            here.map(|c| if shared(c) { 2 } else { 1 })
                .sum::<usize>()
                .max(1)
        })
        .product()
}

/// The site's words and the account's context, lower-cased and normalized,
/// with an email address also as its local part; only words of 3 or more
/// characters.
fn context_words(context: &[&str]) -> Vec<String> {
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
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(password: &str, context: &[&str]) -> Result<(), Refusal> {
        check(password, context, Guards::WithSecondFactor)
    }

    #[test]
    fn length_is_counted_in_characters_after_normalization() {
        // Seven characters however many bytes: too short.
        assert_eq!(choose("ÅÅÅÅÅÅÅ", &[]), Err(Refusal::TooShort));
        // U+212B ANGSTROM SIGN is U+00C5 under NFKC; the full-width "Ａ" is "A".
        assert_eq!(normalize("\u{212B}"), "\u{C5}");
        assert_eq!(normalize("ＡＢＣ"), "ABC");
        assert_eq!(
            choose(&"x".repeat(MAX_CHARS + 1), &[]),
            Err(Refusal::TooLong)
        );
        // 64 characters must be accepted (800-63B), whatever they are.
        let long = "grape tunnel violet orbit lantern moss quiet harbor spindle cl";
        assert_eq!(long.chars().count(), 62);
        assert_eq!(choose(&format!("{long}ay"), &[]), Ok(()));
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
            assert_eq!(choose(common, &[]), Err(Refusal::Common), "{common}");
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
                choose(personal, &context),
                Err(Refusal::Personal),
                "{personal}"
            );
        }
    }

    #[test]
    fn no_composition_rules_a_long_phrase_of_plain_words_is_fine() {
        // Lower-case letters and spaces only.
        assert_eq!(choose("correct staple copper lantern", &[]), Ok(()));
        // Any characters at all.
        assert_eq!(choose("冬の朝に珈琲と猫と古い本", &[]), Ok(()));
    }

    #[test]
    fn a_password_that_is_the_only_factor_needs_15_characters() {
        // 14 characters of unrelated words: enough beside a second factor.
        let fourteen = "oak vine 3 jar";
        assert_eq!(fourteen.chars().count(), 14);
        assert_eq!(check(fourteen, &[], Guards::WithSecondFactor), Ok(()));
        assert_eq!(
            check(fourteen, &[], Guards::Alone),
            Err(Refusal::TooShortAlone)
        );
        let fifteen = "oak vine 3 jars";
        assert_eq!(check(fifteen, &[], Guards::Alone), Ok(()));
    }

    /// The l33t symbols `zxcvbn` substitutes (every one of its table), which
    /// multiply its matching by each combination of letters they may stand
    /// for: the costliest input there is for its length.
    fn worst_case(chars: usize) -> String {
        "4@8({[<3691!|70$5+%2".chars().cycle().take(chars).collect()
    }

    #[test]
    fn zxcvbn_is_given_a_bounded_prefix_whatever_the_input() {
        // Plain text: 48 characters.
        assert_eq!(
            judged_prefix(&"ab".repeat(200)).chars().count(),
            JUDGED_CHARS
        );
        // Characters, not bytes: a multi-byte prefix is cut on a boundary.
        let wide = "冬".repeat(100);
        assert_eq!(judged_prefix(&wide), "冬".repeat(JUDGED_CHARS));
        assert_eq!(judged_prefix("short"), "short");
        // Every l33t symbol, by hand: the budget is 8·48² = 18,432. The
        // first 12 characters, 4@8({[<3691!, give a 2 choices, c 4, g 2,
        // i 3 (1 counts twice: l may take it too) and l 2: 96 tables,
        // 96·12² = 13,824, within. The 13th, |, makes i 5 and l 4: 320
        // tables, 320·13² = 54,080, over.
        assert_eq!(judged_prefix(&worst_case(MAX_CHARS)), "4@8({[<3691!");
        // A long passphrase is accepted on its prefix (800-63B: long
        // passwords are welcome), and a weak prefix is not rescued by what
        // follows it.
        let phrase = "grape tunnel violet orbit lantern moss quiet harbor spindle clay";
        assert_eq!(choose(phrase, &[]), Ok(()));
        assert_eq!(
            choose(&format!("password1234{}", "x".repeat(100)), &[]),
            Err(Refusal::Common)
        );
    }

    #[test]
    fn the_costliest_passwords_are_judged_in_milliseconds() {
        // Unbounded, 100 l33t symbols took seconds of CPU. Bounded, each of
        // these takes milliseconds (printed; run with --nocapture); the
        // assertion leaves room for a loaded machine.
        let _ = judge("warm the dictionaries up", &[]);
        let mut slowest = std::time::Duration::ZERO;
        for password in [
            worst_case(MAX_CHARS),
            "1|7!$5@4(+%2".chars().cycle().take(MAX_CHARS).collect(),
            "1234567890".repeat(26),
            "19700101".repeat(32),
            "qwertyuiopasdfghjklzxcvbnm".repeat(10),
            "a".repeat(MAX_CHARS),
            "p@ssw0rd".repeat(32),
            // The slowest of a thousand random strings of l33t symbols,
            // letters and digits.
            "@7z_%b+l[U77xd%0E9a(O8E@<58A5I5o".repeat(8),
        ] {
            let started = std::time::Instant::now();
            let verdict = judge(&password, &["someone", "someone@example.com"]);
            let took = started.elapsed();
            println!("{:?}…: {took:?} ({verdict:?})", &password[..12]);
            slowest = slowest.max(took);
        }
        println!("slowest: {slowest:?}");
        assert!(
            slowest < std::time::Duration::from_millis(150),
            "{slowest:?}"
        );
    }
}
