//! Counts for the home dashboard. Aggregates only: no names, nothing about a survivor.

use crate::{on_pool, Db, StoreError};
use haven_core::Role;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardCounts {
    pub partner_organisations: i64,
    pub active_users: i64,
    pub open_sessions: i64,
    /// Active users per role, in `Role::ALL` order.
    pub users_by_role: Vec<(Role, i64)>,
}

pub async fn dashboard(db: &Db) -> Result<DashboardCounts, StoreError> {
    let now = crate::clock::now();
    let (partners, active, sessions): (i64, i64, i64) = on_pool!(db, pool => sqlx::query_as(
        "SELECT
            (SELECT count(*) FROM organisations WHERE kind = 'partner'),
            (SELECT count(*) FROM users WHERE disabled_at IS NULL),
            (SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1)",
    )
    .bind(now)
    .fetch_one(pool)
    .await?);
    let per_role: Vec<(String, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT r.role, count(*) FROM user_roles r JOIN users u ON u.id = r.user_id
         WHERE u.disabled_at IS NULL GROUP BY r.role",
    )
    .fetch_all(pool)
    .await?);
    let users_by_role = Role::ALL
        .into_iter()
        .map(|role| {
            let n = per_role
                .iter()
                .find(|(r, _)| r == role.as_str())
                .map(|(_, n)| *n)
                .unwrap_or(0);
            (role, n)
        })
        .collect();
    Ok(DashboardCounts {
        partner_organisations: partners,
        active_users: active,
        open_sessions: sessions,
        users_by_role,
    })
}
