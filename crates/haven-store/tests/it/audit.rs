//! The audit chain on disk: tampering is found and named, concurrency keeps it whole, and a
//! failed write leaves no event.

use haven_core::audit::Problem;
use haven_core::{DisplayName, Locale, OrgKind, OrgName, RequestContext, Roles, Username};
use haven_store::audit::{self, AuditFilter, AuditRecord};
use haven_store::testing::TestDb;
use haven_store::users::{self, NewUser};
use haven_store::{orgs, Db, StoreError};

fn ctx() -> RequestContext {
    RequestContext::system("test")
}

async fn write_events(db: &Db, n: usize) {
    for i in 0..n {
        let mut tx = db.begin().await.unwrap();
        audit::append(
            &mut tx,
            &ctx(),
            &AuditRecord {
                action: "test.write",
                entity: "thing",
                entity_id: Some(format!("t{i}")),
                fields: &["a", "b"],
                reason: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

/// Runs one statement directly, as an attacker with database access would.
async fn tamper(db: &Db, sql: &str) {
    haven_store::on_pool!(db, pool => sqlx::query(sql).execute(pool).await.unwrap().rows_affected());
}

async fn broken(db: &Db) -> (i64, Problem) {
    let report = audit::verify(db, |_, _| {}).await.unwrap();
    let b = report.broken.expect("tampering must be found");
    (b.seq, b.problem)
}

async fn a_sound_chain_verifies(t: TestDb) {
    write_events(&t.db, 5).await;
    let mut calls = Vec::new();
    let report = audit::verify(&t.db, |c, n| calls.push((c, n)))
        .await
        .unwrap();
    assert!(report.is_valid(), "{report:?}");
    assert_eq!((report.checked, report.total), (5, 5));
    assert_eq!(calls.last(), Some(&(5, 5)));
    // An empty log is sound too (a fresh database has no events).
    let fresh = TestDb::sqlite().await;
    assert!(audit::verify(&fresh.db, |_, _| {})
        .await
        .unwrap()
        .is_valid());
}

async fn an_edited_column_is_named(t: TestDb) {
    write_events(&t.db, 5).await;
    tamper(
        &t.db,
        "UPDATE audit_events SET entity_id = 'other' WHERE seq = 3",
    )
    .await;
    assert_eq!(broken(&t.db).await, (3, Problem::Edited));
}

async fn a_deleted_event_is_named(t: TestDb) {
    write_events(&t.db, 5).await;
    tamper(&t.db, "DELETE FROM audit_events WHERE seq = 2").await;
    assert_eq!(broken(&t.db).await, (3, Problem::Gap { expected: 2 }));
}

async fn a_deleted_last_event_is_found(t: TestDb) {
    write_events(&t.db, 5).await;
    tamper(&t.db, "DELETE FROM audit_events WHERE seq = 5").await;
    assert_eq!(broken(&t.db).await, (5, Problem::Truncated { head_seq: 5 }));
}

async fn swapped_events_are_named(t: TestDb) {
    write_events(&t.db, 5).await;
    // Swap the whole contents of events 2 and 4, keeping the seq column in place.
    tamper(&t.db, "UPDATE audit_events SET seq = 1000 WHERE seq = 2").await;
    tamper(&t.db, "UPDATE audit_events SET seq = 2 WHERE seq = 4").await;
    tamper(&t.db, "UPDATE audit_events SET seq = 4 WHERE seq = 1000").await;
    let (seq, _) = broken(&t.db).await;
    assert_eq!(seq, 2);
}

async fn concurrent_writers_keep_the_chain(t: TestDb) {
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..8 {
        let db = t.db.clone();
        tasks.spawn(async move {
            for i in 0..25 {
                let mut tx = db.begin().await.unwrap();
                audit::append(
                    &mut tx,
                    &ctx(),
                    &AuditRecord {
                        action: "test.concurrent",
                        entity: "thing",
                        entity_id: Some(format!("{task}-{i}")),
                        fields: &["a"],
                        reason: None,
                    },
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let report = audit::verify(&t.db, |_, _| {}).await.unwrap();
    assert!(report.is_valid(), "{report:?}");
    assert_eq!(report.checked, 200);
}

async fn a_failed_write_leaves_no_event(t: TestDb) {
    let org = orgs::create(
        &t.db,
        &ctx(),
        &OrgName::parse("Field Office").unwrap(),
        OrgKind::Own,
    )
    .await
    .unwrap();
    let new = NewUser {
        org_id: org,
        username: Username::parse("dara").unwrap(),
        display_name: DisplayName::parse("Dara Sok").unwrap(),
        roles: Roles::parse_list("investigator").unwrap(),
        locale: Locale::En,
    };
    users::create_with_hash(&t.db, &ctx(), &new, "x")
        .await
        .unwrap();
    let before = audit::verify(&t.db, |_, _| {}).await.unwrap();
    let err = users::create_with_hash(&t.db, &ctx(), &new, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let after = audit::verify(&t.db, |_, _| {}).await.unwrap();
    assert!(after.is_valid());
    assert_eq!(before.checked, after.checked);
    assert_eq!(after.checked, 2, "org.create and user.create");
}

async fn list_filters_and_pages_newest_first(t: TestDb) {
    write_events(&t.db, 7).await;
    let all = audit::list(&t.db, &AuditFilter::default(), None, 3)
        .await
        .unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [7, 6, 5]);
    assert_eq!(all[0].fields, ["a", "b"]);
    let next = audit::list(&t.db, &AuditFilter::default(), Some(5), 3)
        .await
        .unwrap();
    assert_eq!(next.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 3, 2]);
    let one = audit::list(
        &t.db,
        &AuditFilter {
            entity_id: Some("t3".into()),
            actor: Some("system:test".into()),
            ..AuditFilter::default()
        },
        None,
        50,
    )
    .await
    .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].seq, 4);
    let none = audit::list(
        &t.db,
        &AuditFilter {
            action: Some("nothing.here".into()),
            ..AuditFilter::default()
        },
        None,
        50,
    )
    .await
    .unwrap();
    assert!(none.is_empty());
    let since = all[0].at;
    let recent = audit::list(
        &t.db,
        &AuditFilter {
            since: Some(since),
            ..AuditFilter::default()
        },
        None,
        50,
    )
    .await
    .unwrap();
    assert!(recent.iter().all(|e| e.at >= since) && !recent.is_empty());
    let before = audit::list(
        &t.db,
        &AuditFilter {
            until: Some(all[2].at),
            ..AuditFilter::default()
        },
        None,
        50,
    )
    .await
    .unwrap();
    assert!(before.iter().all(|e| e.at < all[2].at));
}

async fn values_never_reach_the_log(t: TestDb) {
    let org = orgs::create(
        &t.db,
        &ctx(),
        &OrgName::parse("Field Office").unwrap(),
        OrgKind::Own,
    )
    .await
    .unwrap();
    let new = NewUser {
        org_id: org,
        username: Username::parse("dara").unwrap(),
        display_name: DisplayName::parse("Quillon Marrowby").unwrap(),
        roles: Roles::parse_list("investigator").unwrap(),
        locale: Locale::En,
    };
    users::create_with_hash(&t.db, &ctx(), &new, "secret-hash")
        .await
        .unwrap();
    let events = audit::list(&t.db, &AuditFilter::default(), None, 50)
        .await
        .unwrap();
    let text = format!("{events:?}");
    assert!(text.contains("display_name"));
    assert!(!text.contains("Quillon") && !text.contains("secret-hash"));
    // A value passed where a field name belongs is refused, not recorded.
    let mut tx = t.db.begin().await.unwrap();
    let err = audit::append(
        &mut tx,
        &ctx(),
        &AuditRecord {
            action: "user.update",
            entity: "user",
            entity_id: None,
            fields: &["Quillon Marrowby"],
            reason: None,
        },
    )
    .await
    .unwrap_err();
    assert!(!err.to_string().contains("Quillon"), "{err}");
}

haven_store::test_both_backends!(
    a_sound_chain_verifies,
    an_edited_column_is_named,
    a_deleted_event_is_named,
    a_deleted_last_event_is_found,
    swapped_events_are_named,
    concurrent_writers_keep_the_chain,
    a_failed_write_leaves_no_event,
    list_filters_and_pages_newest_first,
    values_never_reach_the_log,
    an_unreadable_value_is_named
);

async fn an_unreadable_value_is_named(t: TestDb) {
    write_events(&t.db, 4).await;
    let sql = match t.db.backend() {
        haven_store::Backend::Sqlite => "UPDATE audit_events SET at = 'not a time' WHERE seq = 3",
        haven_store::Backend::Postgres => return, // PostgreSQL enforces column types itself.
    };
    tamper(&t.db, sql).await;
    assert_eq!(broken(&t.db).await, (3, Problem::Unreadable));
}
