//! Safe retries of signed game-server calls: a repeat gets the original answer.
//!
//! A game server that times out retries the same request byte for byte. Each signed
//! call is named by a key: its `Idempotency-Key` header (signed, see
//! [`crate::server_sig`]) or, without one, its signature. [`serve_signed`] runs a call
//! once per key and answers every repeat from the record of the first:
//!
//! | the key's record | answer |
//! |---|---|
//! | none | the call runs; its outcome is recorded |
//! | completed, same request | the stored status and body, with `Idempotent-Replayed: true` |
//! | still running, same request | 409 problem: retry later |
//! | any, another request (method, path or body differ) | 422 problem |
//!
//! A request's fingerprint is SHA-256 of `"{METHOD}\n{path}\n{body}"`, so "same request"
//! is byte for byte. Outcomes below 500 are recorded (a 422 stays a 422 on retry); a 5xx
//! drops the claim, so the retry runs the call again (a 5xx changed nothing that a
//! retry could apply twice: creates are guarded by the MySQL record below, results by
//! the match's own exactly-once transaction).
//!
//! # Where records live
//! - Redis, `idem:{key hash}`: `run|{fingerprint}` while the first call runs (a claim of
//!   [`RUNNING_TTL_MS`], so a crashed call can be retried), then
//!   `done|{fingerprint}|{status}|{content type}|{body}` for [`RETENTION_MS`].
//! - MySQL, `server_idempotency` (migration V8), for create-type calls: the handler
//!   writes the row with [`Call::record`] in the same transaction as what it creates.
//!   A replay after Redis lost its data (FLUSHALL, a restart) finds the row and gets the
//!   original answer; two first attempts racing past an empty Redis meet at the row's
//!   primary key (the second waits for the first's commit, then sees a duplicate, rolls
//!   back and answers from the row). Rows expire after [`RETENTION_MS`] and are deleted
//!   in batches by [`purge_expired`].

use sha2::{Digest, Sha256};
use spin_sdk::http::Response;

use crate::db::{Db, DbError};
use crate::error::AppError;
use crate::http::Req;
use crate::params;
use crate::redis::{Arg, Redis, Script};
use crate::server_sig::{self, Verified};

/// How long an outcome is kept (Redis and MySQL): 24 hours, Stripe's retention. A
/// plain signature is only valid for 5 minutes, but a retry with a fresh signature and
/// the same `Idempotency-Key` is honoured for this long.
pub const RETENTION_MS: i64 = 24 * 3600 * 1000;
/// How long a running call holds its key before a retry may run it again.
pub const RUNNING_TTL_MS: i64 = 60_000;
/// Header set on every answer served from a record.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Rows deleted per [`purge_expired`] statement.
pub const PURGE_BATCH: u64 = 500;

/// Claims the key (`run|fp`) unless it has a record, which is returned instead.
const CLAIM: Script = Script::new(
    "idempotency.claim",
    r"
local v = redis.call('GET', KEYS[1])
if v then return {'old', v} end
redis.call('SET', KEYS[1], 'run|' .. ARGV[1], 'PX', ARGV[2])
return {'new'}
",
);

/// Drops the claim only while it is still this call's (`run|fp`).
const RELEASE: Script = Script::new(
    "idempotency.release",
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
);

/// One signed call being run: its key and fingerprint.
#[derive(Debug, Clone)]
pub struct Call {
    key_hash: [u8; 32],
    fingerprint: [u8; 32],
}

/// A recorded outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Outcome {
    /// The stored answer, marked as a replay.
    pub fn into_response(self) -> Response {
        let mut builder = Response::builder();
        builder.status(self.status).header(REPLAYED_HEADER, "true");
        if !self.content_type.is_empty() {
            builder.header("content-type", self.content_type.as_str());
        }
        builder.body(self.body).build()
    }

    fn of_response(resp: &Response) -> Outcome {
        Outcome {
            status: *resp.status(),
            content_type: resp
                .header("content-type")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
            body: resp.body().to_vec(),
        }
    }
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

impl Call {
    /// The call named by a verified request.
    pub fn new(verified: &Verified, method: &str, path: &str, body: &[u8]) -> Call {
        let key_hash = match &verified.idempotency_key {
            Some(k) => sha256(&[b"key:", k.as_bytes()]),
            None => sha256(&[b"sig:", verified.signature.as_bytes()]),
        };
        let method = method.to_ascii_uppercase();
        Call {
            key_hash,
            fingerprint: sha256(&[method.as_bytes(), b"\n", path.as_bytes(), b"\n", body]),
        }
    }

    fn redis_key(&self) -> String {
        format!("idem:{}", hex::encode(self.key_hash))
    }

    fn fingerprint_hex(&self) -> String {
        hex::encode(self.fingerprint)
    }

    /// Records the outcome in MySQL; call it inside the transaction that makes the
    /// effect, so both commit or neither. A second first attempt fails here with a
    /// duplicate key (after the first committed), which rolls its transaction back.
    pub fn record(&self, db: &Db, status: u16, body: &[u8], now_ms: i64) -> Result<(), DbError> {
        db.execute(
            "INSERT INTO server_idempotency \
             (key_hash, fingerprint, status, body, created_at_ms, expires_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?)",
            &params![
                self.key_hash.to_vec(),
                self.fingerprint.to_vec(),
                status,
                body.to_vec(),
                now_ms,
                now_ms + RETENTION_MS
            ],
        )
    }

    /// The MySQL record of this key, if any (expired rows count as none).
    fn stored(&self, db: &Db, now_ms: i64) -> Result<Option<(Vec<u8>, Outcome)>, DbError> {
        let rows = db.query(
            "SELECT fingerprint, status, body FROM server_idempotency \
             WHERE key_hash = ? AND expires_at_ms > ?",
            &params![self.key_hash.to_vec(), now_ms],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some((
            row.get("fingerprint")?,
            Outcome {
                status: row.get("status")?,
                content_type: "application/json".into(),
                body: row.get("body")?,
            },
        )))
    }

    /// Caches a finished outcome in Redis; a 5xx releases the claim instead.
    fn finish(&self, redis: &Redis, outcome: &Outcome) {
        let key = self.redis_key();
        let result = if outcome.status >= 500 {
            let claim = format!("run|{}", self.fingerprint_hex());
            redis.eval(&RELEASE, &[&key], &[Arg::Str(&claim)]).map(drop)
        } else {
            self.cache(redis, outcome)
        };
        if let Err(e) = result {
            crate::log_warn!("idempotency record of a finished call: {e}");
        }
    }

    fn cache(&self, redis: &Redis, outcome: &Outcome) -> Result<(), crate::redis::RedisError> {
        let mut value = format!(
            "done|{}|{}|{}|",
            self.fingerprint_hex(),
            outcome.status,
            outcome.content_type
        )
        .into_bytes();
        value.extend_from_slice(&outcome.body);
        redis
            .execute(
                "SET",
                &[
                    Arg::Str(&self.redis_key()),
                    Arg::Bytes(&value),
                    Arg::Str("PX"),
                    Arg::Int(RETENTION_MS),
                ],
            )
            .map(drop)
    }
}

/// A Redis record, parsed.
#[derive(Debug, PartialEq, Eq)]
enum Record {
    Running {
        fingerprint: String,
    },
    Done {
        fingerprint: String,
        outcome: Outcome,
    },
}

fn parse_record(value: &str) -> Option<Record> {
    let mut parts = value.splitn(5, '|');
    match parts.next()? {
        "run" => Some(Record::Running {
            fingerprint: parts.next()?.to_owned(),
        }),
        "done" => {
            let fingerprint = parts.next()?.to_owned();
            let status = parts.next()?.parse().ok()?;
            let content_type = parts.next()?.to_owned();
            let body = parts.next()?.as_bytes().to_vec();
            Some(Record::Done {
                fingerprint,
                outcome: Outcome {
                    status,
                    content_type,
                    body,
                },
            })
        }
        _ => None,
    }
}

fn other_request() -> AppError {
    AppError::invalid_field(
        "idempotency-key",
        "this key was used for another request (method, path or body differ)",
    )
}

/// What [`begin`] decided.
pub enum Begin {
    /// Run the call (this request holds the key).
    Run(Call),
    /// Answer with the stored outcome.
    Replay(Response),
}

/// Checks the signature ([`server_sig::check_request`]) and the key's records: Redis,
/// then (when `durable` is given, for create-type calls) MySQL.
pub fn begin(req: &Req, redis: &Redis, durable: Option<&Db>) -> Result<Begin, AppError> {
    let verified = server_sig::check_request(req)?;
    let call = Call::new(&verified, &req.method.to_string(), &req.path, &req.body);
    let fp = call.fingerprint_hex();
    let reply = redis.eval(
        &CLAIM,
        &[&call.redis_key()],
        &[Arg::Str(&fp), Arg::Int(RUNNING_TTL_MS)],
    )?;
    let values = reply.strings();
    if values.first().map(String::as_str) == Some("old") {
        return match values.get(1).and_then(|v| parse_record(v)) {
            Some(Record::Done {
                fingerprint,
                outcome,
            }) if fingerprint == fp => Ok(Begin::Replay(outcome.into_response())),
            Some(Record::Running { fingerprint }) if fingerprint == fp => Err(AppError::Conflict(
                "a request with this idempotency key is still being processed; retry later".into(),
            )),
            Some(_) => Err(other_request()),
            None => Err(AppError::internal("unreadable idempotency record")),
        };
    }
    if let Some(db) = durable {
        if let Some((fingerprint, outcome)) = call.stored(db, crate::clock::now_ms())? {
            if fingerprint != call.fingerprint {
                let _ = redis.del(&[&call.redis_key()]);
                return Err(other_request());
            }
            // Redis had lost the record: put it back for the next repeat.
            let _ = call.cache(redis, &outcome);
            return Ok(Begin::Replay(outcome.into_response()));
        }
    }
    Ok(Begin::Run(call))
}

/// Runs a signed call at most once per key (see the module docs). `durable` is the
/// connection of a create-type call, whose `run` writes [`Call::record`] inside its
/// transaction; when `run` fails there, a record committed meanwhile by a concurrent
/// first attempt is the answer.
pub fn serve_signed(
    req: &Req,
    redis: &Redis,
    durable: Option<&Db>,
    run: impl FnOnce(&Call) -> Result<Response, AppError>,
) -> Result<Response, AppError> {
    let call = match begin(req, redis, durable)? {
        Begin::Replay(resp) => return Ok(resp),
        Begin::Run(call) => call,
    };
    let mut result = run(&call);
    if let (Err(_), Some(db)) = (&result, durable) {
        if let Ok(Some((fingerprint, outcome))) = call.stored(db, crate::clock::now_ms()) {
            if fingerprint == call.fingerprint {
                result = Ok(outcome.into_response());
            }
        }
    }
    let outcome = match &result {
        Ok(resp) => Outcome::of_response(resp),
        Err(e) => {
            let p = e.to_problem();
            Outcome {
                status: p.status,
                content_type: crate::problem::PROBLEM_JSON.into(),
                body: p.body(),
            }
        }
    };
    call.finish(redis, &outcome);
    result
}

/// Deletes up to [`PURGE_BATCH`] expired records; how many went (`ROW_COUNT()`).
pub fn purge_expired(db: &Db, now_ms: i64) -> Result<i64, DbError> {
    db.execute(
        "DELETE FROM server_idempotency WHERE expires_at_ms < ? LIMIT ?",
        &params![now_ms, PURGE_BATCH],
    )?;
    db.row_count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(idem: Option<&str>, sig: &str) -> Verified {
        Verified {
            idempotency_key: idem.map(str::to_owned),
            signature: sig.into(),
        }
    }

    #[test]
    fn the_key_is_the_idempotency_key_or_else_the_signature() {
        let a = Call::new(&verified(Some("k"), "aa"), "POST", "/m", b"{}");
        let b = Call::new(&verified(Some("k"), "bb"), "POST", "/m", b"{}");
        assert_eq!(a.key_hash, b.key_hash, "a fresh signature, the same key");
        let c = Call::new(&verified(None, "aa"), "POST", "/m", b"{}");
        let d = Call::new(&verified(None, "bb"), "POST", "/m", b"{}");
        assert_ne!(c.key_hash, d.key_hash);
        assert_ne!(a.key_hash, c.key_hash);
    }

    #[test]
    fn the_fingerprint_covers_method_path_and_body() {
        let v = verified(Some("k"), "aa");
        let base = Call::new(&v, "post", "/m", b"{}").fingerprint;
        assert_eq!(Call::new(&v, "POST", "/m", b"{}").fingerprint, base);
        assert_ne!(Call::new(&v, "PUT", "/m", b"{}").fingerprint, base);
        assert_ne!(Call::new(&v, "POST", "/n", b"{}").fingerprint, base);
        assert_ne!(Call::new(&v, "POST", "/m", b"{ }").fingerprint, base);
    }

    #[test]
    fn records_parse_with_bodies_that_contain_the_separator() {
        assert_eq!(
            parse_record("run|ab"),
            Some(Record::Running {
                fingerprint: "ab".into()
            })
        );
        assert_eq!(
            parse_record("done|ab|201|application/json|{\"a\":\"x|y\"}"),
            Some(Record::Done {
                fingerprint: "ab".into(),
                outcome: Outcome {
                    status: 201,
                    content_type: "application/json".into(),
                    body: b"{\"a\":\"x|y\"}".to_vec(),
                },
            })
        );
        assert_eq!(parse_record("done|ab|x|t|b"), None);
        assert_eq!(parse_record("other"), None);
    }
}
