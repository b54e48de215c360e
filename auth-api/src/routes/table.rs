//! A route as a row of its module's table: the method, the path and the
//! handler. The router is built from the tables, and the OpenAPI check reads
//! the same rows, so what is served and what is checked cannot differ.

use axum::handler::Handler;
use axum::routing::MethodRouter;
use http::Method;

use crate::state::AppState;

/// One route: what the router serves at `path` for `method`, and what the
/// OpenAPI document must describe.
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path, with `{name}` for a path parameter.
    pub path: &'static str,
    /// The handler, for `method` only.
    pub handler: MethodRouter<AppState>,
}

/// A `GET` route.
pub fn get<H, T>(path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route {
        method: Method::GET,
        path,
        handler: axum::routing::get(handler),
    }
}

/// A `POST` route.
pub fn post<H, T>(path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route {
        method: Method::POST,
        path,
        handler: axum::routing::post(handler),
    }
}
