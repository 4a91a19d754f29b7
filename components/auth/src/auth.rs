//! `/api/v1/auth/*`: register, login, refresh, logout.

use crate::session::{self, TokenPair};
use crate::{password, users};
use rh_app::users::store::{self, NewUser, User};
use rh_domain::validation::{collect_errors, Email, Password, Region, Username};
use rh_infra::audit::Audit;
use rh_infra::db::Db;
use rh_infra::http::{self, Req};
use rh_infra::redis::Redis;
use rh_infra::{clock, config, ratelimit, revocation, AppError};
use rh_token::TokenType;
use serde::{Deserialize, Serialize};
use spin_sdk::http::Response;

/// Sliding window of the register/login limit.
const RATE_WINDOW_MS: i64 = 60_000;

#[derive(Serialize)]
struct AuthResponse {
    user: serde_json::Value,
    #[serde(flatten)]
    tokens: TokenPair,
}

/// Refuses the request with 429 once `scope` has seen the configured number of
/// requests from this client address in the last minute.
fn rate_limit(req: &Req, redis: &Redis, scope: &str) -> Result<(), AppError> {
    let client = req.client_ip().unwrap_or_else(|| "unknown".into());
    let limit = config::auth_rate_limit_per_minute()?;
    ratelimit::enforce(
        redis,
        &ratelimit::key(scope, &client),
        limit,
        RATE_WINDOW_MS,
    )
}

/// Missing JSON fields are validation failures (422), not malformed JSON (400).
fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, rh_domain::FieldError> {
    value
        .as_deref()
        .ok_or_else(|| rh_domain::FieldError::new(field, "is required"))
}

#[derive(Deserialize)]
struct RegisterBody {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
    region: Option<String>,
}

/// `POST /api/v1/auth/register` → 201 `{user, access_token, refresh_token, token_type, expires_in}`.
pub fn register(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    rate_limit(req, &redis, "register")?;
    let body: RegisterBody = req.json()?;

    // 1. Validate every field, reporting all problems at once.
    let regions = config::regions();
    let email = required(&body.email, "email").and_then(Email::parse);
    let username = required(&body.username, "username").and_then(Username::parse);
    let pass = required(&body.password, "password").and_then(Password::parse);
    let region = required(&body.region, "region").and_then(|r| Region::parse(r, &regions));
    collect_errors([
        email.as_ref().err(),
        username.as_ref().err(),
        pass.as_ref().err(),
        region.as_ref().err(),
    ])?;
    let (email, username, pass, region) = (email?, username?, pass?, region?);

    // 2. Hash outside the transaction: it is the slow step and needs no lock.
    let hash = password::hash(pass.expose())?;
    let keys = config::jwt_keys()?;
    let now_ms = clock::now_ms();
    let ip = req.client_ip();

    // 3. User, first refresh token and audit row commit together or not at all.
    let db = Db::open()?;
    let (user_id, tokens) = db.transaction(|tx| {
        let lower = username.lower();
        let id = store::insert_user(
            tx,
            &NewUser {
                email: email.as_str(),
                username: username.as_str(),
                username_lower: &lower,
                password_hash: &hash,
                region: region.as_str(),
            },
            now_ms,
        )?;
        let family = rh_infra::ids::random_id();
        let tokens = session::issue_pair(tx, &keys, id, &family, now_ms)?;
        Audit::new("register")
            .actor(id)
            .target("user", id)
            .ip(ip.clone())
            .record(tx, now_ms)?;
        Ok::<_, AppError>((id, tokens))
    })?;

    let user = store::user_by_id(&db, user_id)?
        .ok_or_else(|| AppError::internal("the new user is missing after commit"))?;
    http::json(
        201,
        &AuthResponse {
            user: users::private_view(&user, serde_json::json!({})),
            tokens,
        },
    )
}

#[derive(Deserialize)]
struct LoginBody {
    email: Option<String>,
    password: Option<String>,
}

/// `POST /api/v1/auth/login` → 200, same shape as register. Unknown email and wrong
/// password give the same 401 after the same amount of hashing work.
pub fn login(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    rate_limit(req, &redis, "login")?;
    let body: LoginBody = req.json()?;
    let email = required(&body.email, "email").and_then(Email::parse);
    let pass = required(&body.password, "password");
    collect_errors([email.as_ref().err(), pass.as_ref().err()])?;
    let (email, pass) = (email?, pass?);

    let db = Db::open()?;
    let now_ms = clock::now_ms();
    let ip = req.client_ip();
    let user = store::user_by_email(&db, email.as_str())?;
    let verified = match &user {
        Some(u) => password::verify(pass, &u.password_hash)?,
        None => {
            password::waste_equal_time(pass);
            false
        }
    };
    let user = match (user, verified) {
        (Some(u), true) => u,
        (user, _) => {
            let mut entry = Audit::new("login_failed")
                .ip(ip)
                .target("email", email.as_str())
                .reason(if user.is_some() {
                    "wrong password"
                } else {
                    "unknown email"
                });
            if let Some(u) = &user {
                entry = entry.actor(u.id);
            }
            entry.record(&db, now_ms)?;
            return Err(AppError::InvalidCredentials);
        }
    };
    refuse_banned(&user, now_ms)?;

    let keys = config::jwt_keys()?;
    let family = rh_infra::ids::random_id();
    let tokens = db.transaction(|tx| {
        let tokens = session::issue_pair(tx, &keys, user.id, &family, now_ms)?;
        Audit::new("login")
            .actor(user.id)
            .target("user", user.id)
            .ip(ip.clone())
            .record(tx, now_ms)?;
        Ok::<_, AppError>(tokens)
    })?;
    let stats = store::stats(&db, user.id)?;
    http::json(
        200,
        &AuthResponse {
            user: users::private_view(&user, stats),
            tokens,
        },
    )
}

fn refuse_banned(user: &User, now_ms: i64) -> Result<(), AppError> {
    if user.is_banned(now_ms) {
        return Err(AppError::Forbidden("this account is banned".into()));
    }
    Ok(())
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: Option<String>,
}

/// What a refresh attempt found, decided inside the transaction.
enum RefreshOutcome {
    Rotated(TokenPair, User),
    /// An already-used token: the family was revoked (committed), the caller gets 401.
    Reused,
    Refused(&'static str),
}

/// `POST /api/v1/auth/refresh` → 200 with a new pair. Every refresh token is single-use;
/// presenting a used one revokes its whole family (RFC 9700 §4.14.2).
pub fn refresh(req: &Req) -> Result<Response, AppError> {
    let body: RefreshBody = req.json()?;
    let token = required(&body.refresh_token, "refresh_token")?;
    let keys = config::jwt_keys()?;
    let now_ms = clock::now_ms();
    let claims =
        rh_token::verify(&keys, token, TokenType::Refresh, now_ms / 1000).map_err(|e| match e {
            rh_token::TokenError::WrongType => {
                AppError::InvalidToken("the token is not a refresh token".into())
            }
            other => rh_infra::auth::token_error(other),
        })?;
    let ip = req.client_ip();

    let db = Db::open()?;
    let outcome = db.transaction(|tx| {
        let Some(row) = store::lock_refresh(tx, &claims.jti)? else {
            return Ok(RefreshOutcome::Refused("unknown refresh token"));
        };
        if row.revoked_at_ms.is_some() {
            return Ok(RefreshOutcome::Refused(
                "the refresh token has been revoked",
            ));
        }
        if row.used_at_ms.is_some() {
            session::revoke_family(tx, &row.family_id, now_ms)?;
            Audit::new("refresh_reuse")
                .actor(row.user_id)
                .target("token_family", &row.family_id)
                .ip(ip.clone())
                .reason("an already rotated refresh token was presented; family revoked")
                .record(tx, now_ms)?;
            return Ok(RefreshOutcome::Reused);
        }
        if row.expires_at_ms <= now_ms {
            return Ok(RefreshOutcome::Refused("the refresh token has expired"));
        }
        let Some(user) = store::user_by_id(tx, row.user_id)? else {
            return Ok(RefreshOutcome::Refused("the account no longer exists"));
        };
        if user.is_banned(now_ms) {
            return Ok(RefreshOutcome::Refused("the account is banned"));
        }
        store::mark_refresh_used(tx, &claims.jti, now_ms)?;
        let tokens = session::issue_pair(tx, &keys, user.id, &row.family_id, now_ms)?;
        Ok::<_, AppError>(RefreshOutcome::Rotated(tokens, user))
    })?;

    match outcome {
        RefreshOutcome::Rotated(tokens, user) => {
            let stats = store::stats(&db, user.id)?;
            http::json(
                200,
                &AuthResponse {
                    user: users::private_view(&user, stats),
                    tokens,
                },
            )
        }
        RefreshOutcome::Reused => Err(AppError::InvalidToken(
            "the refresh token was already used; all sessions of this login were revoked".into(),
        )),
        RefreshOutcome::Refused(why) => Err(AppError::InvalidToken(why.into())),
    }
}

/// `POST /api/v1/auth/logout` (Bearer) → 204. The access token is refused from now on
/// (Redis, until it would have expired) and its refresh family is revoked (MySQL).
pub fn logout(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = rh_infra::auth::require_user(req, &redis)?;
    let now_ms = clock::now_ms();
    let db = Db::open()?;
    db.transaction(|tx| {
        // The durable mark first (rh_infra::revocation), Redis after commit.
        revocation::revoke_token(tx, &user.jti, user.id, user.exp, now_ms)?;
        if let Some(family) = &user.family {
            session::revoke_family(tx, family, now_ms)?;
        }
        Audit::new("logout")
            .actor(user.id)
            .target("user", user.id)
            .ip(req.client_ip())
            .record(tx, now_ms)?;
        Ok::<_, AppError>(())
    })?;
    revocation::write_token_mark(&redis, &user.jti, user.exp, now_ms)?;
    if let Err(e) = revocation::purge_expired(&db, now_ms) {
        rh_infra::log_warn!("revocation purge: {e}");
    }
    Ok(http::no_content())
}
