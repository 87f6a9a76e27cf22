//! The sign-in steps shared by the API and the HTML form: throttling, password, second factor.
//!
//! Every failed step (wrong password, unknown user, disabled account, wrong code) is recorded
//! under the typed username and the client address, in the database, so the limits of
//! `haven_core::ThrottlePolicy` hold across every instance. The throttle is checked before any
//! password work, and answers the same whether or not the account exists.

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use haven_core::{Password, ThrottlePolicy};
use haven_store::users::{self, User};
use haven_store::{login_throttle, totp, StoreError};

/// How a sign-in attempt ended.
#[derive(Debug)]
pub enum Outcome {
    /// Signed in: start a session.
    SignedIn(User),
    /// The password was right but the account has a second factor and no code was given.
    NeedsCode(User),
    /// Too many recent failures: try again after this many seconds.
    Throttled(u64),
}

/// `Ok(())` when an attempt for this account from this address may go ahead.
pub async fn throttle(
    state: &AppState,
    account: &str,
    addr: Option<&str>,
) -> Result<Result<(), u64>, ApiError> {
    let policy = ThrottlePolicy::default();
    let recent = login_throttle::recent(&state.db, &policy, account, addr).await?;
    Ok(policy.check(&recent, haven_store::clock::now()))
}

/// Records a failed attempt and returns the error every failure answers with.
pub async fn failed(state: &AppState, account: &str, addr: Option<&str>) -> ApiError {
    if let Err(err) = login_throttle::record_failure(&state.db, account, addr).await {
        return err.into();
    }
    StoreError::BadCredentials.into()
}

/// Throttle, then password, then (if the account has one) the second factor.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &Password,
    code: Option<&str>,
    addr: Option<&str>,
) -> Result<Outcome, ApiError> {
    if let Err(wait) = throttle(state, username, addr).await? {
        return Ok(Outcome::Throttled(wait));
    }
    let ctx = haven_core::RequestContext {
        actor: haven_core::Actor::System("web:anonymous"),
        client_addr: addr.map(str::to_owned),
        request_id: Some(crate::request_id::current()),
    };
    let user = match users::authenticate(&state.db, &ctx, &state.hasher, username, password).await {
        Ok(user) => user,
        Err(StoreError::BadCredentials) => return Err(failed(state, username, addr).await),
        Err(err) => return Err(err.into()),
    };
    if totp::status(&state.db, user.id).await?.is_on() {
        match code.map(str::trim).filter(|c| !c.is_empty()) {
            None => return Ok(Outcome::NeedsCode(user)),
            Some(code) => {
                if !totp::verify(&state.db, state.keyring()?, user.id, code).await? {
                    return Err(failed(state, username, addr).await);
                }
            }
        }
    }
    login_throttle::clear_account(&state.db, username).await?;
    Ok(Outcome::SignedIn(user))
}

/// The second step of the HTML sign-in: the code for a user whose password was right.
pub async fn second_factor(
    state: &AppState,
    user: &User,
    code: &str,
    addr: Option<&str>,
) -> Result<Outcome, ApiError> {
    let account = user.username.as_str();
    if let Err(wait) = throttle(state, account, addr).await? {
        return Ok(Outcome::Throttled(wait));
    }
    if !totp::verify(&state.db, state.keyring()?, user.id, code).await? {
        return Err(failed(state, account, addr).await);
    }
    login_throttle::clear_account(&state.db, account).await?;
    Ok(Outcome::SignedIn(user.clone()))
}

/// The API's answer to a throttled attempt: 429, `Retry-After` in seconds.
pub fn too_many_attempts(wait: u64) -> Response {
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many failed sign-in attempts; try again in {wait} seconds"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    response
}
