//! Authenticator-app codes (TOTP, RFC 6238: HMAC-SHA-1, 6 digits, 30-second
//! steps, one step of clock skew either way) and recovery codes: the pure
//! parts, with no database.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use qrcode::QrCode;
use qrcode::render::svg;
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Totp};

use crate::ApiError;

/// The issuer authenticator apps show beside the account.
pub const ISSUER: &str = "whatever.gov";

/// Secret length: 160 bits, RFC 4226's recommendation.
pub const SECRET_BYTES: usize = 20;

/// How many recovery codes an account gets.
pub const RECOVERY_CODES: usize = 10;

/// The characters of a recovery code: lower-case letters and digits
/// without the look-alikes `0 o 1 l i`.
const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Characters in a recovery code: 16 of 31 is 79 bits.
const CODE_CHARS: usize = 16;

fn random(bytes: &mut [u8]) -> Result<(), ApiError> {
    SystemRandom::new()
        .fill(bytes)
        .map_err(|_| ApiError::Internal("the system random generator failed".into()))
}

/// A new secret.
pub fn new_secret() -> Result<Vec<u8>, ApiError> {
    let mut secret = vec![0u8; SECRET_BYTES];
    random(&mut secret)?;
    Ok(secret)
}

/// The generator for `secret`, labelled with `username` in apps.
pub fn totp(secret: &[u8], username: &str) -> Result<Totp, ApiError> {
    Builder::new()
        .with_secret(secret.to_vec())
        // The label may not hold a colon; no username of ours does, but an
        // old one might.
        .with_account_name(username.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| ApiError::Internal(format!("building a TOTP generator: {e}")))
}

/// The secret as people type it into an app: base32, in groups of four.
pub fn secret_text(secret: &[u8]) -> String {
    let plain = base32_rfc4648(secret);
    plain
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// RFC 4648 base32 without padding (what `otpauth://` URIs carry).
fn base32_rfc4648(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The `otpauth://` URI and its QR code as an SVG document, drawn here: no
/// third party ever sees the secret.
pub fn enrollment(totp: &Totp) -> Result<(String, String), ApiError> {
    let uri = totp
        .to_url()
        .map_err(|e| ApiError::Internal(format!("writing the otpauth URI: {e}")))?;
    let svg = QrCode::new(uri.as_bytes())
        .map_err(|e| ApiError::Internal(format!("drawing the QR code: {e}")))?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok((uri, svg))
}

/// The 30-second step `code` is right for at `unix_time` (the current step
/// or one either side), if any. Spaces in the code are ignored.
pub fn check(totp: &Totp, code: &str, unix_time: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp.check(&code, unix_time)
}

/// Now, in Unix seconds.
pub fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

/// Ten new recovery codes, as shown to the person (`xxxx-xxxx-xxxx-xxxx`).
pub fn new_recovery_codes() -> Result<Vec<String>, ApiError> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut raw = [0u8; CODE_CHARS];
            random(&mut raw)?;
            // Rejection-free but biased by at most 256 % 31 / 256: 9 of the
            // 31 characters are a little likelier; still over 78 bits.
            let chars: Vec<u8> = raw
                .iter()
                .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()])
                .collect();
            Ok(chars
                .chunks(4)
                .map(|c| std::str::from_utf8(c).expect("ASCII"))
                .collect::<Vec<_>>()
                .join("-"))
        })
        .collect()
}

/// What is stored for a recovery code: SHA-256 of the code without its
/// dashes and spaces, lower-cased, so it may be typed either way.
pub fn recovery_digest(code: &str) -> Vec<u8> {
    let plain: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::digest(plain.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", 8 digits.
    /// Our generator has 6 digits: the last six of the RFC's values.
    #[test]
    fn rfc_6238_test_vectors() {
        let t = totp(b"12345678901234567890", "ada").unwrap();
        for (time, rfc) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(t.generate(time).to_string(), rfc[2..], "T = {time}");
            assert_eq!(check(&t, &rfc[2..], time), Some(time / 30));
        }
    }

    #[test]
    fn one_step_of_skew_either_way_and_no_more() {
        let t = totp(b"12345678901234567890", "ada").unwrap();
        let code = t.generate(1_111_111_109).to_string();
        assert!(check(&t, &code, 1_111_111_109 + 30).is_some());
        assert!(check(&t, &code, 1_111_111_109 - 30).is_some());
        assert!(check(&t, &code, 1_111_111_109 + 60).is_none());
        assert!(check(&t, "12345", 1_111_111_109).is_none());
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(check(&t, &spaced, 1_111_111_109).is_some());
    }

    #[test]
    fn base32_matches_rfc_4648_vectors() {
        // RFC 4648 section 10, without padding.
        for (raw, encoded) in [
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foob", "MZXW6YQ"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_rfc4648(raw.as_bytes()), encoded);
        }
        assert_eq!(secret_text(b"foobar"), "MZXW 6YTB OI");
    }

    #[test]
    fn the_uri_and_qr_code_carry_the_secret_and_the_issuer() {
        let t = totp(b"12345678901234567890", "zoe.obrien").unwrap();
        let (uri, svg) = enrollment(&t).unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains("issuer=whatever"), "{uri}");
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_either_way() {
        let codes = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        let code = &codes[0];
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(
            recovery_digest(code),
            recovery_digest(&code.replace('-', " ").to_uppercase())
        );
    }
}
