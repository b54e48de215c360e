//! The API's two cookies, read and written in one place: the session
//! cookie and the cookie of a pending sign-in (a password accepted, the
//! second factor still to come).
//!
//! Both are `__Host-` cookies: browsers accept them only from this exact
//! host, over HTTPS, with `Path=/` and no `Domain`, so no other
//! `*.whatever.gov` host can plant or shadow them. JavaScript cannot read
//! them, and they never travel on cross-site requests.

use http::{HeaderMap, HeaderValue, header};

use crate::auth::session::IssuedToken;
use crate::http::Resp;

/// The cookie holding the session token.
pub const SESSION: &str = "__Host-whatever_session";

/// The cookie of a pending sign-in.
pub const PENDING: &str = "__Host-whatever_pending";

/// The attributes both cookies are set (and cleared) with.
const ATTRIBUTES: &str = "Path=/; HttpOnly; Secure; SameSite=Strict";

/// What logout (and ending the current session from the settings) tells
/// the browser to forget besides the cookie: whatever the pages kept in
/// storage about the signed-in person.
pub const CLEAR_SITE_DATA: HeaderValue = HeaderValue::from_static(r#""cookies", "storage""#);

fn set(name: &str, value: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}={value}; Max-Age={max_age}; {ATTRIBUTES}"))
        .expect("tokens are valid header values")
}

/// The `Set-Cookie` value carrying a session token.
pub fn session(issued: &IssuedToken) -> HeaderValue {
    set(SESSION, &issued.token, issued.max_age())
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session() -> HeaderValue {
    set(SESSION, "", 0)
}

/// The `Set-Cookie` value of a pending sign-in's token.
pub fn pending(token: &str, max_age: i64) -> HeaderValue {
    set(PENDING, token, max_age)
}

/// The `Set-Cookie` value that ends a pending sign-in in the browser.
pub fn clear_pending() -> HeaderValue {
    set(PENDING, "", 0)
}

/// The value of the cookie `name`, if the request carries it exactly once
/// and not empty. Two cookies of one name are ambiguous (another host of
/// the site, or a script, may have planted one): the request gets none.
pub fn read<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    read_once(headers, name).filter(|v| !v.is_empty())
}

/// The value of the cookie `name`, possibly empty, if the request carries
/// it exactly once.
fn read_once<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .map(|(_, value)| value.trim());
    let first = found.next();
    if found.next().is_some() {
        return None;
    }
    first
}

/// The session token a request carries: an `Authorization: Bearer` header
/// or the session cookie. Any other scheme (HTTP Basic included) counts as
/// nothing. A request carrying two different tokens is ambiguous and gets
/// none: which one the client meant cannot be known.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim());
    match (bearer, read_once(headers, SESSION)) {
        (Some(b), Some(c)) if b != c => None,
        (Some(token), _) | (None, Some(token)) => Some(token).filter(|t| !t.is_empty()),
        (None, None) => None,
    }
}

/// Adds the session's refreshed token, if it was due for one, to `resp`.
pub fn refreshed(mut resp: Resp, fresh: Option<&IssuedToken>) -> Resp {
    if let Some(fresh) = fresh {
        resp.headers_mut()
            .insert(header::SET_COOKIE, session(fresh));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_token_or_none_and_basic_is_nothing() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=b; __Host-whatever_session=cookie-token".parse().unwrap(),
        );
        assert_eq!(session_token(&h), Some("cookie-token"));
        h.insert(
            header::AUTHORIZATION,
            "Bearer cookie-token".parse().unwrap(),
        );
        assert_eq!(session_token(&h), Some("cookie-token"));
        h.insert(
            header::AUTHORIZATION,
            "Bearer header-token".parse().unwrap(),
        );
        assert_eq!(
            session_token(&h),
            None,
            "two different tokens are ambiguous"
        );
        let mut bearer = HeaderMap::new();
        bearer.insert(
            header::AUTHORIZATION,
            "bearer header-token".parse().unwrap(),
        );
        assert_eq!(session_token(&bearer), Some("header-token"));
        let mut basic = HeaderMap::new();
        basic.insert(header::AUTHORIZATION, "Basic YWRhOnB3".parse().unwrap());
        assert_eq!(session_token(&basic), None);
    }

    #[test]
    fn two_cookies_of_one_name_give_none() {
        for name in [SESSION, PENDING] {
            let mut h = HeaderMap::new();
            h.append(header::COOKIE, format!("{name}=one").parse().unwrap());
            assert_eq!(read(&h, name), Some("one"));
            h.append(header::COOKIE, format!("{name}=two").parse().unwrap());
            assert_eq!(read(&h, name), None, "{name} in two headers");
            let mut same_header = HeaderMap::new();
            same_header.insert(
                header::COOKIE,
                format!("{name}=one; {name}=two").parse().unwrap(),
            );
            assert_eq!(read(&same_header, name), None, "{name} twice in one");
        }
        let mut empty = HeaderMap::new();
        empty.insert(header::COOKIE, format!("{PENDING}=").parse().unwrap());
        assert_eq!(read(&empty, PENDING), None);
    }

    #[test]
    fn both_cookies_carry_the_same_attributes() {
        for value in [clear_session(), clear_pending(), pending("t", 300)] {
            let text = value.to_str().unwrap();
            assert!(
                text.ends_with("; Path=/; HttpOnly; Secure; SameSite=Strict"),
                "{text}"
            );
            assert!(text.starts_with("__Host-"), "{text}");
        }
        assert_eq!(
            pending("t", 300).to_str().unwrap(),
            "__Host-whatever_pending=t; Max-Age=300; Path=/; HttpOnly; Secure; SameSite=Strict"
        );
    }
}
