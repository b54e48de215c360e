//! The mail account holders get. Plain text, no tracking, links only to the
//! site itself; tokens go in the link's fragment, which browsers never send
//! to a server, so they stay out of every access log on the way.

use crate::mail::Mail;

const SIGNATURE: &str = "\n-- \nwhatever.gov Plan Finder\n\
    You get this message because this address was entered on whatever.gov. \
    If that was not you, you can ignore it.\n";

/// The link that verifies a new account's address.
pub fn verify_email(site: &str, token: &str, hours: u64) -> Mail {
    Mail {
        kind: "verify_email",
        subject: "Confirm your email address for whatever.gov".into(),
        body: format!(
            "Welcome to whatever.gov.\n\n\
             To finish creating your account, confirm your email address by \
             opening this link within {hours} hours:\n\n\
             {site}/account/verify/#token={token}\n\n\
             The link works once.\n{SIGNATURE}"
        ),
    }
}

/// Someone asked to create an account with facts that match nobody.
pub fn no_match(site: &str) -> Mail {
    Mail {
        kind: "account_no_match",
        subject: "We could not create your whatever.gov account".into(),
        body: format!(
            "Someone asked to create a whatever.gov account with this email \
             address, but the last name, date of birth, ZIP code and last four \
             digits of the Social Security number did not match our records, \
             so no account was created.\n\n\
             Check them against your Medicare card and letters, and try again at \
             {site}/account/create/\n{SIGNATURE}"
        ),
    }
}

/// Someone who knows a beneficiary's facts asked for a second account.
pub fn already_has_account(site: &str) -> Mail {
    Mail {
        kind: "account_exists",
        subject: "You already have a whatever.gov account".into(),
        body: format!(
            "Someone asked to create a whatever.gov account for a person who \
             already has one, so no new account was created.\n\n\
             Sign in at {site}/signin/ with your existing username. If you \
             forgot your password, use \"Forgot your password?\" on that page.\n{SIGNATURE}"
        ),
    }
}

/// The username asked for belongs to someone else.
pub fn username_taken(site: &str) -> Mail {
    Mail {
        kind: "account_username_taken",
        subject: "Choose another username for whatever.gov".into(),
        body: format!(
            "We could not create your whatever.gov account: the username you \
             chose is already in use. Please start again with another one at \
             {site}/account/create/\n{SIGNATURE}"
        ),
    }
}

/// The address already belongs to an account: its owner is told, nobody
/// else learns it.
pub fn email_in_use(site: &str) -> Mail {
    Mail {
        kind: "account_email_in_use",
        subject: "Someone tried to create a whatever.gov account with your email address".into(),
        body: format!(
            "Someone asked to create a whatever.gov account with this email \
             address, which already belongs to an account, so no new account \
             was created.\n\n\
             If it was you, sign in at {site}/signin/. If it was not, your \
             account is safe: nothing about it was changed.\n{SIGNATURE}"
        ),
    }
}

/// An authenticator app was added to the account.
pub fn factor_added(site: &str) -> Mail {
    Mail {
        kind: "factor_added",
        subject: "An authenticator app was added to your whatever.gov account".into(),
        body: format!(
            "An authenticator app was just added to your whatever.gov account. \
             From now on, signing in asks for a code from it.\n\n\
             If this was not you, sign in at {site}/signin/ and change your \
             password at once, or call us.\n{SIGNATURE}"
        ),
    }
}

/// The authenticator app was swapped for another one.
pub fn factor_replaced(site: &str) -> Mail {
    Mail {
        kind: "factor_replaced",
        subject: "An authenticator app was changed on your whatever.gov account".into(),
        body: format!(
            "The authenticator app of your whatever.gov account was just \
             changed. Codes from the app you used before no longer work; your \
             recovery codes still do.\n\n\
             If this was not you, sign in at {site}/signin/ with a recovery \
             code and change your password at once, or call us.\n{SIGNATURE}"
        ),
    }
}

/// The authenticator app was removed.
pub fn factor_removed(site: &str, codes_deleted: bool) -> Mail {
    let codes = if codes_deleted {
        " Your recovery codes no longer work either: signing in now takes \
         only your password."
    } else {
        ""
    };
    Mail {
        kind: "factor_removed",
        subject: "An authenticator app was removed from your whatever.gov account".into(),
        body: format!(
            "The authenticator app was just removed from your whatever.gov \
             account.{codes}\n\n\
             If this was not you, sign in at {site}/signin/, change your \
             password at once and add an authenticator app again.\n{SIGNATURE}"
        ),
    }
}

/// New recovery codes replaced the old ones.
pub fn recovery_codes_replaced(site: &str) -> Mail {
    Mail {
        kind: "recovery_codes_replaced",
        subject: "New recovery codes for your whatever.gov account".into(),
        body: format!(
            "New recovery codes were just made for your whatever.gov account. \
             The codes you had before no longer work.\n\n\
             If this was not you, sign in at {site}/signin/ and change your \
             password at once, or call us.\n{SIGNATURE}"
        ),
    }
}

/// A passkey was added to the account. Its name, which whoever added it
/// chose, stays out of the mail.
pub fn passkey_added(site: &str) -> Mail {
    Mail {
        kind: "passkey_added",
        subject: "A passkey was added to your whatever.gov account".into(),
        body: format!(
            "A passkey was just added to your whatever.gov account. It can \
             sign in to your account from now on.\n\n\
             If this was not you, sign in at {site}/signin/, remove the passkey \
             in your account settings and change your password at once.\n{SIGNATURE}"
        ),
    }
}

/// A passkey was removed from the account.
pub fn passkey_removed(site: &str) -> Mail {
    Mail {
        kind: "passkey_removed",
        subject: "A passkey was removed from your whatever.gov account".into(),
        body: format!(
            "A passkey was just removed from your whatever.gov account. It \
             cannot sign in to your account any more.\n\n\
             If this was not you, sign in at {site}/signin/ and change your \
             password at once.\n{SIGNATURE}"
        ),
    }
}

/// A recovery code was used to sign in.
pub fn recovery_code_used(site: &str, left: i64) -> Mail {
    Mail {
        kind: "recovery_code_used",
        subject: "A recovery code was used to sign in to whatever.gov".into(),
        body: format!(
            "One of your recovery codes was just used to sign in to your \
             whatever.gov account. It will not work again; you have {left} left.\n\n\
             If this was not you, sign in at {site}/signin/ and change your \
             password at once.\n{SIGNATURE}"
        ),
    }
}

/// The link that lets the account holder choose a new password.
pub fn password_reset(site: &str, token: &str) -> Mail {
    Mail {
        kind: "password_reset",
        subject: "Reset your whatever.gov password".into(),
        body: format!(
            "Someone asked to reset the password of your whatever.gov account. \
             To choose a new one, open this link within an hour:\n\n\
             {site}/account/reset/#token={token}\n\n\
             The link works once. If you did not ask, ignore this message: \
             your password stays as it is.\n{SIGNATURE}"
        ),
    }
}

/// The password was changed or reset.
pub fn password_changed(site: &str) -> Mail {
    Mail {
        kind: "password_changed",
        subject: "Your whatever.gov password was changed".into(),
        body: format!(
            "The password of your whatever.gov account was just changed, and \
             your other sessions were signed out.\n\n\
             If this was not you, reset your password at once at \
             {site}/signin/ (\"Forgot your password?\").\n{SIGNATURE}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_in_the_fragment_of_a_link_to_the_site() {
        let mail = verify_email("https://www.whatever.gov", "abc_-123", 24);
        assert!(
            mail.body
                .contains("https://www.whatever.gov/account/verify/#token=abc_-123\n"),
            "{}",
            mail.body
        );
        assert!(mail.body.contains("within 24 hours"));
        assert!(
            !format!("{mail:?}").contains("abc_-123"),
            "Debug hides the body"
        );
    }
}
