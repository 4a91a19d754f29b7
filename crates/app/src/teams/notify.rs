//! Team notifications: written in the membership transaction (so a rolled-back change
//! notifies nobody), published on `user:{id}` after the commit (best effort, as every
//! event; the inbox in MySQL is the record).

use rh_domain::events::{Notification, UserEvent};
use serde_json::Value;

use rh_infra::db::Db;
use rh_infra::error::AppError;
use rh_infra::events;
use rh_infra::params;
use rh_infra::redis::Redis;

/// Notifications written by one change, to publish once it is committed.
#[derive(Debug, Default)]
pub struct Outbox {
    pub notifications: Vec<Notification>,
}

impl Outbox {
    /// Inserts a notification of `kind` for `user_id` (inside the caller's transaction).
    pub fn notify(
        &mut self,
        db: &Db,
        user_id: u64,
        kind: &str,
        data: Value,
        now_ms: i64,
    ) -> Result<(), AppError> {
        db.execute(
            "INSERT INTO notifications (user_id, kind, payload, created_at_ms) \
             VALUES (?, ?, ?, ?)",
            &params![user_id, kind, data.to_string(), now_ms],
        )?;
        self.notifications.push(Notification {
            id: db.last_insert_id()?,
            user_id,
            kind: kind.to_owned(),
            data,
            read: false,
            created_at: now_ms,
        });
        Ok(())
    }

    /// [`Outbox::notify`] for each of `users`.
    pub fn notify_all(
        &mut self,
        db: &Db,
        users: impl IntoIterator<Item = u64>,
        kind: &str,
        data: &Value,
        now_ms: i64,
    ) -> Result<(), AppError> {
        for user_id in users {
            self.notify(db, user_id, kind, data.clone(), now_ms)?;
        }
        Ok(())
    }

    /// Publishes every notification on its user's channel. Failures are logged, not
    /// returned: the change is committed and each notification is in the inbox.
    pub fn publish(self, redis: &Redis) {
        for n in self.notifications {
            let channel = events::user_channel(n.user_id);
            let event = UserEvent::Notification { notification: n };
            if let Err(e) = events::publish(redis, &channel, &event) {
                rh_infra::log_warn!("team notification not published: {e}");
            }
        }
    }
}
