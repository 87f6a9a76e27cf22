use haven_store::testing::TestDb;
use haven_store::{ConnectOptions, DatabaseUrl, Db, StoreError};

async fn migrations_are_idempotent(t: TestDb) {
    // TestDb has migrated once already; a second run applies nothing and succeeds.
    assert_eq!(t.db.migrate().await.unwrap(), 0);
    t.db.ping().await.unwrap();
    assert!(t.db.known_migrations() >= 1);
}

async fn demo_seed_creates_partners_and_every_role(t: TestDb) {
    let hasher = haven_store::PasswordHasher::new(haven_store::HashCost::MINIMAL).unwrap();
    haven_store::demo::seed(
        &t.db,
        &hasher,
        &haven_core::Password::new("demo passphrase 2026"),
    )
    .await
    .unwrap();
    let orgs = haven_store::orgs::list(&t.db).await.unwrap();
    assert_eq!(orgs.len(), 10);
    assert_eq!(orgs[0].kind, haven_core::OrgKind::Own);
    assert!(orgs.iter().any(|o| o.name == "World Hope International"));
    let counts = haven_store::stats::dashboard(&t.db).await.unwrap();
    assert_eq!(counts.partner_organisations, 9);
    assert_eq!(counts.active_users, 9);
    for (role, n) in counts.users_by_role {
        assert!(n >= 1, "demo has no {role} user");
    }
    // Seeding twice is refused rather than duplicating data.
    let again = haven_store::demo::seed(
        &t.db,
        &hasher,
        &haven_core::Password::new("demo passphrase 2026"),
    )
    .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

haven_store::test_both_backends!(
    migrations_are_idempotent,
    demo_seed_creates_partners_and_every_role
);

#[tokio::test]
async fn a_missing_sqlite_file_is_refused_unless_asked_to_create() {
    let dir = tempfile::tempdir().unwrap();
    let url =
        DatabaseUrl::parse(&format!("sqlite://{}/nope/haven.db", dir.path().display())).unwrap();
    let err = Db::connect(&url, &ConnectOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!dir.path().join("nope").exists());
    let db = Db::connect(
        &url,
        &ConnectOptions {
            create_if_missing: true,
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(db.migrate().await.unwrap(), db.known_migrations());
}

#[tokio::test]
async fn an_unreachable_server_is_reported_as_unavailable() {
    let url = DatabaseUrl::parse("postgres://haven@127.0.0.1:1/haven").unwrap();
    let err = Db::connect(
        &url,
        &ConnectOptions {
            acquire_timeout: std::time::Duration::from_secs(2),
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
