//! The API's one error type and its one mapping to an HTTP answer:
//! `{"error":{"code","message"}}` with the right status. Details of 5xx
//! errors are logged, never sent.

use http::StatusCode;

use crate::http::{Resp, json_response};

/// What a sign-in held by the per-account limit is told, whoever asks (an
/// unknown username is counted and held alike, so it tells nobody whether
/// the account exists). The link it speaks of is [`crate::auth::unlock`]'s.
pub const HELD_MESSAGE: &str = "Too many failed sign-ins to this account from other places. \
     If it is your account, we sent a link to its confirmed email address: open it on this \
     device, then sign in here. The link works for an hour; another is sent only after that. \
     Otherwise, try again tomorrow.";

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (bad JSON, missing field, wrong type).
    #[error("{message}")]
    BadRequest {
        /// Stable machine-readable code.
        code: &'static str,
        /// What to fix.
        message: String,
    },
    /// Well-formed but a field's value is not acceptable.
    #[error("{message}")]
    Unprocessable {
        /// Stable machine-readable code.
        code: &'static str,
        /// What to fix, naming the field.
        message: String,
    },
    /// One field of the body is not acceptable; answered 422 with the field named.
    #[error("{message}")]
    InvalidField {
        /// The JSON field (or header) at fault.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A string of the body, at `path` (`name`, `items[2].name`), holds a
    /// control character; answered 422 like [`ApiError::InvalidField`],
    /// naming the path as the field.
    #[error("{path} must not contain control characters")]
    ControlCharacter {
        /// Where in the body.
        path: String,
    },
    /// Several fields of the body are not acceptable; answered 422 with
    /// each field and what is wrong with it, so a form can mark them all.
    #[error("{} fields need attention", .0.len())]
    InvalidFields(Vec<(&'static str, String)>),
    /// The request is understood, and refused for this account (e.g. its
    /// email address is not verified yet).
    #[error("{message}")]
    Forbidden {
        /// Stable machine-readable code.
        code: &'static str,
        /// What to do.
        message: &'static str,
    },
    /// No valid session.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Nothing here.
    #[error("not found")]
    NotFound,
    /// The route exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request conflicts with an earlier one (e.g. an idempotency key reused).
    #[error("{message}")]
    Conflict {
        /// Stable machine-readable code.
        code: &'static str,
        /// What happened.
        message: String,
    },
    /// The body is over the limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body is not JSON.
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    /// Throttled; retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// Sign-in throttled by the limit on one account from addresses it never
    /// signed in from: strangers guessed at it. The message tells the owner
    /// their way in ([`crate::auth::unlock`]).
    #[error("{}", HELD_MESSAGE)]
    SignInHeld {
        /// Seconds until a retry may succeed without the unlock link.
        retry_after: u64,
    },
    /// Busy with work of this kind (judging passwords) and not queueing
    /// more; retry after this many seconds.
    #[error("busy")]
    Busy {
        /// Seconds after which a retry is likely to find room.
        retry_after: u64,
    },
    /// A dependency (the database) is not answering in time.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the details are logged only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The one answer to every authentication failure, so the client learns
    /// nothing about why (expired, forged, revoked or absent).
    pub const SIGN_IN: Self = Self::Unauthorized("Please sign in to continue.");

    /// Builds a 400 with a code and message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. }
            | Self::InvalidField { .. }
            | Self::ControlCharacter { .. }
            | Self::InvalidFields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } | Self::SignInHeld { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Conflict { code, .. }
            | Self::Forbidden { code, .. } => code,
            Self::InvalidFields(_) => "invalid_fields",
            Self::InvalidField { .. } | Self::ControlCharacter { .. } => "invalid_field",
            Self::Unauthorized(_) => "unauthorized",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyRequests { .. } | Self::SignInHeld { .. } => "too_many_requests",
            Self::Unavailable(_) => "unavailable",
            Self::Busy { .. } => "busy",
            Self::Internal(_) => "internal",
        }
    }

    /// The error for an answer the framework or a layer produced on its
    /// own (no route, wrong method, body over the limit, timeout): the
    /// inverse of [`ApiError::status`], so such answers keep the contract.
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::UNAUTHORIZED => Self::SIGN_IN,
            StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => {
                Self::Unavailable(format!("answered {status} by a layer"))
            }
            StatusCode::TOO_MANY_REQUESTS => Self::TooManyRequests { retry_after: 1 },
            s if s.is_client_error() => {
                Self::bad_request("bad_request", "the request could not be understood")
            }
            s => Self::Internal(format!("answered {s} by a layer")),
        }
    }

    /// The error as the JSON answer the client sees.
    pub fn response(self) -> Resp {
        let status = self.status();
        let message = match &self {
            // Never leak internals: log them, send a fixed sentence.
            Self::Internal(detail) => {
                tracing::error!(detail = %detail, "request failed");
                "Something went wrong on our side. Please try again later.".to_string()
            }
            Self::Unavailable(detail) => {
                tracing::warn!(detail = %detail, "dependency unavailable");
                "The service is busy. Please try again in a moment.".to_string()
            }
            Self::Busy { .. } => "The service is busy. Please try again in a moment.".to_string(),
            other => other.to_string(),
        };
        let mut body = serde_json::json!({"error": {"code": self.code(), "message": message}});
        if let Self::InvalidField { field, .. } = &self {
            body["error"]["field"] = (*field).into();
        }
        if let Self::ControlCharacter { path } = &self {
            body["error"]["field"] = path.as_str().into();
        }
        if let Self::InvalidFields(fields) = &self {
            body["error"]["fields"] = fields
                .iter()
                .map(|(field, message)| serde_json::json!({"field": field, "message": message}))
                .collect();
        }
        let mut resp = json_response(status, &body);
        if let Self::TooManyRequests { retry_after }
        | Self::SignInHeld { retry_after }
        | Self::Busy { retry_after } = self
        {
            resp.headers_mut()
                .insert(http::header::RETRY_AFTER, retry_after.into());
        }
        resp
    }
}

impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        self.response().into_response()
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        // Pool timeouts and connect failures mean "database not answering": 503.
        ApiError::Unavailable(format!("database pool: {e}"))
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        // A server shutting down or restarting ends its sessions with an
        // error of class 57 (operator intervention), and a broken link is
        // class 08: both are an outage to retry, not a fault of ours.
        let outage = e.code().is_some_and(|code| {
            let class = &code.code()[..2];
            class == "57" || class == "08"
        });
        // Class 22 (data exception) is a value the database cannot take: a
        // date outside its range, a NUL character, a number too large. The
        // value came from the request, so it is the request's fault; the
        // database's message may quote the value, so only the code is logged.
        let data = e.code().filter(|code| code.code().starts_with("22"));
        if e.is_closed() {
            ApiError::Unavailable(format!("database connection closed: {e}"))
        } else if outage {
            ApiError::Unavailable(format!("database unavailable: {e}"))
        } else if let Some(code) = data {
            tracing::info!(
                sqlstate = code.code(),
                "the database refused a value of the request"
            );
            ApiError::bad_request(
                "invalid_value",
                "A value in the request cannot be stored (a date, number or character out of \
                 range). Check the fields and try again.",
            )
        } else {
            ApiError::Internal(format!("database query: {e}"))
        }
    }
}

impl From<whatever_database::Error> for ApiError {
    fn from(e: whatever_database::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}
