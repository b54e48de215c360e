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

/// The one message a request to create an account brings to the address
/// given, whatever happened: created (`token` works), or not (the facts
/// matched nobody, or that person has an account: `token` was never
/// stored). Nothing in it, or in its timing, tells which; only following
/// the link does, and then only "created" or "not created".
pub fn creation_requested(site: &str, token: &str, hours: u64) -> Mail {
    Mail {
        kind: "account_requested",
        subject: "Confirm your email address for whatever.gov".into(),
        body: format!(
            "Someone, probably you, asked to create a whatever.gov account with \
             this email address.\n\n\
             To go on, open this link within {hours} hours:\n\n\
             {site}/account/verify/#token={token}\n\n\
             If the details you gave match our records and that person has no \
             account yet, the link confirms your address and your account is \
             ready. If not, the page tells you that no account was created.\n\n\
             The link works once.\n{SIGNATURE}"
        ),
    }
}

/// Someone who knows a beneficiary's facts asked for an account; the
/// beneficiary has one. Goes to that account's verified address only, never
/// to whoever asked.
pub fn already_has_account(site: &str) -> Mail {
    Mail {
        kind: "account_exists",
        subject: "Someone asked to create a whatever.gov account for you".into(),
        body: format!(
            "Someone asked to create a whatever.gov account with your name, date \
             of birth, ZIP code and Social Security number digits. You already \
             have an account, so no new account was created, and nothing about \
             yours was changed.\n\n\
             If it was you, sign in at {site}/signin/ with your existing \
             username; if you forgot your password, use \"Forgot your \
             password?\" on that page. If it was not you, someone knows these \
             facts about you: your account stays yours, and you may want to \
             add a passkey or an authenticator app in your account settings.\n{SIGNATURE}"
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

/// A reset link was asked for an account whose address nobody verified:
/// no link is sent to an address that may not be the owner's.
pub fn reset_needs_verified_address(site: &str) -> Mail {
    Mail {
        kind: "password_reset_withheld",
        subject: "We could not send a whatever.gov password reset link".into(),
        body: format!(
            "Someone asked to reset the password of the whatever.gov account \
             that uses this email address. This address was never confirmed \
             for that account, so we do not send reset links to it.\n\n\
             If the account is yours and you know its password, sign in at \
             {site}/signin/ and confirm your address in your account settings; \
             resetting by email works from then on. If you forgot the password, \
             call us. If you did not ask, ignore this message.\n{SIGNATURE}"
        ),
    }
}

/// The link that lets a legacy account prove its address.
pub fn confirm_address(site: &str, token: &str, hours: u64) -> Mail {
    Mail {
        kind: "confirm_address",
        subject: "Confirm your email address for whatever.gov".into(),
        body: format!(
            "You asked to confirm this email address for your whatever.gov \
             account. Open this link within {hours} hours:\n\n\
             {site}/account/verify/#token={token}\n\n\
             The link works once. Once confirmed, this address gets password \
             reset links and notices about your account.\n{SIGNATURE}"
        ),
    }
}

/// Strangers' guesses hold the account; this link lets its owner sign in
/// from the device they open it on.
pub fn unlock_sign_in(site: &str, token: &str, minutes: u64) -> Mail {
    Mail {
        kind: "unlock_sign_in",
        subject: "Many failed sign-ins to your whatever.gov account".into(),
        body: format!(
            "Someone, from addresses your account has not signed in from, tried \
             many passwords on your whatever.gov account, so signing in from \
             new devices is paused for a day. Your password was not changed.\n\n\
             To sign in now, open this link on the device you want to sign in \
             from, within {minutes} minutes:\n\n\
             {site}/signin/#token={token}\n\n\
             The link works once, and only lets that device sign in with your \
             password (and second factor). If your password is weak or used \
             elsewhere, change it once you are in.\n{SIGNATURE}"
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
