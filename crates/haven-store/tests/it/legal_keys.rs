//! Key rotation covers legal cases and evidence files too.

use haven_core::{Password, RequestContext, Username};
use haven_store::crypto::registry;
use haven_store::evidence::Locker;
use haven_store::testing::TestDb;
use haven_store::{HashCost, Keyring, PasswordHasher};

async fn rotation_rewraps_case_and_evidence_keys(t: TestDb) {
    let old = Keyring::generate();
    let hasher = PasswordHasher::new(HashCost::MINIMAL).unwrap();
    haven_store::demo::seed(&t.db, &hasher, &Password::new("demo passphrase 2026"))
        .await
        .unwrap();
    registry::verify_or_register(&t.db, &old).await.unwrap();
    haven_store::demo::seed_survivors(&t.db, &old)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let locker = Locker::open(dir.path(), 1_000_000).unwrap();
    let case = haven_store::demo_legal::seed_legal(&t.db, &old, &locker)
        .await
        .unwrap();
    let new = old.rotated();
    registry::verify_or_register(&t.db, &new).await.unwrap();
    // Three survivors, one case, one evidence file.
    assert_eq!(registry::pending_rewrap(&t.db, &new).await.unwrap(), 5);
    while registry::rewrap_batch(&t.db, &new, 2).await.unwrap() > 0 {}
    assert_eq!(registry::pending_rewrap(&t.db, &new).await.unwrap(), 0);
    let stale: i64 = haven_store::on_pool!(&t.db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT (SELECT count(*) FROM legal_cases WHERE master_key_id <> $1)
              + (SELECT count(*) FROM evidence WHERE wrapped_key IS NOT NULL AND master_key_id <> $1)")
        .bind(new.current().id)
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!(stale, 0);
    let lawyer = haven_store::users::find_by_username(&t.db, &Username::parse("legal").unwrap())
        .await
        .unwrap()
        .unwrap();
    let ctx = RequestContext::system("test");
    let file = haven_store::legal::case_file(&t.db, &new, &lawyer, &ctx, case)
        .await
        .unwrap();
    assert_eq!(file.suspects[0].name, "Chan Vuthy");
    let check =
        haven_store::evidence::verify(&t.db, &new, &locker, &lawyer, &ctx, file.evidence[0].id)
            .await
            .unwrap();
    assert!(check.intact, "{check:?}");
}

haven_store::test_both_backends!(rotation_rewraps_case_and_evidence_keys);
