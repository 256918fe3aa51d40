//! Route registration that also records each (method, path), so tests can
//! enumerate every route the router serves.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, get, patch, post};

use super::AppState;

/// A router under construction and the table of what it serves.
pub struct Routes {
    pub router: Router<AppState>,
    pub table: Vec<(Method, &'static str)>,
}

impl Routes {
    pub fn new() -> Self {
        Routes {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn add(mut self, method: Method, path: &'static str, route: MethodRouter<AppState>) -> Self {
        // Router::route merges method routers registered for the same path.
        self.router = self.router.route(path, route);
        self.table.push((method, path));
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::GET, path, get(handler))
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::POST, path, post(handler))
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
    ) -> Self {
        self.add(Method::PATCH, path, patch(handler))
    }
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}
