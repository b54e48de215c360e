//! Usernames compare without regard to ASCII case: `Demo01` and `demo01`
//! are one name. The database's `username_key(text)` (migration V28) is the
//! definition every lookup and the uniqueness of names use; [`key`] is the
//! same fold in Rust, for what keys on a typed username before any lookup
//! (the login throttle). Only the 26 ASCII letters fold, so both sides agree
//! whatever the locale (`database/tests/it/usernames.rs` checks them
//! against each other).

/// The form in which `username` is compared: ASCII letters in lower case,
/// every other character as it is.
pub fn key(username: &str) -> String {
    username.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ascii_letters_fold() {
        assert_eq!(key("Demo01"), "demo01");
        assert_eq!(key("DEMO01"), key("demo01"));
        assert_eq!(key("ZOË.O'Brien"), "zoË.o'brien");
        assert_eq!(key("İSTANBUL"), "İstanbul");
    }
}
