//! `GET /api/v1/admin/audit`: the audit log, newest first, filtered and paged by id.

use serde::Serialize;
use spin_sdk::mysql::ParameterValue;

use rh_infra::db::Db;
use rh_infra::AppError;

/// Filters of one page; every field is optional.
#[derive(Debug, Default, Clone)]
pub struct AuditQuery {
    pub actor_id: Option<u64>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub action: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Rows with a smaller id than this (from the previous page's `next_cursor`).
    pub cursor: Option<u64>,
    pub limit: u64,
}

#[derive(Debug, Serialize)]
pub struct AuditEntry {
    pub id: u64,
    pub actor_id: Option<u64>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub reason: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub created_at_ms: i64,
}

#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// One page of the log.
pub fn page(db: &Db, q: &AuditQuery) -> Result<AuditPage, AppError> {
    let mut sql = String::from(
        "SELECT id, actor_id, action, target_type, target_id, ip, reason, before_data, \
         after_data, created_at_ms FROM audit_log WHERE 1 = 1",
    );
    let mut params = Vec::new();
    if let Some(a) = q.actor_id {
        sql.push_str(" AND actor_id = ?");
        params.push(ParameterValue::Uint64(a));
    }
    for (col, v) in [
        ("target_type", &q.target_type),
        ("target_id", &q.target_id),
        ("action", &q.action),
    ] {
        if let Some(v) = v {
            sql.push_str(&format!(" AND {col} = ?"));
            params.push(ParameterValue::Str(v.clone()));
        }
    }
    if let Some(t) = q.from_ms {
        sql.push_str(" AND created_at_ms >= ?");
        params.push(ParameterValue::Int64(t));
    }
    if let Some(t) = q.to_ms {
        sql.push_str(" AND created_at_ms < ?");
        params.push(ParameterValue::Int64(t));
    }
    if let Some(c) = q.cursor {
        sql.push_str(" AND id < ?");
        params.push(ParameterValue::Uint64(c));
    }
    // One extra row says whether there is a next page.
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    params.push(ParameterValue::Uint64(q.limit + 1));
    let rows = db.query(&sql, &params)?;
    let parse = |t: Option<String>| {
        t.map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)))
    };
    let mut items = Vec::new();
    for r in rows.iter() {
        items.push(AuditEntry {
            id: r.get("id")?,
            actor_id: r.get("actor_id")?,
            action: r.get("action")?,
            target_type: r.get("target_type")?,
            target_id: r.get("target_id")?,
            ip: r.get("ip")?,
            reason: r.get("reason")?,
            before: parse(r.get("before_data")?),
            after: parse(r.get("after_data")?),
            created_at_ms: r.get("created_at_ms")?,
        });
    }
    let next_cursor = if items.len() as u64 > q.limit {
        items.truncate(q.limit as usize);
        items.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(AuditPage { items, next_cursor })
}
