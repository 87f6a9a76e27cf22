use haven_core::{Password, RequestContext, Username};
use haven_store::crypto::registry;
use haven_store::testing::TestDb;
use haven_store::{HashCost, Keyring, PasswordHasher};

async fn seeded(t: &TestDb, keyring: &Keyring) {
    let hasher = PasswordHasher::new(HashCost::MINIMAL).unwrap();
    haven_store::demo::seed(&t.db, &hasher, &Password::new("demo passphrase 2026"))
        .await
        .unwrap();
    registry::verify_or_register(&t.db, keyring).await.unwrap();
    haven_store::demo::seed_survivors(&t.db, keyring)
        .await
        .unwrap();
}

async fn rotation_rewraps_every_data_key_and_resumes_after_interruption(t: TestDb) {
    let old = Keyring::generate();
    seeded(&t, &old).await;
    let new = old.rotated();
    registry::verify_or_register(&t.db, &new).await.unwrap();
    assert_eq!(registry::pending_rewrap(&t.db, &new).await.unwrap(), 3);
    // One batch, then "interrupted": the rest is still pending and nothing is lost.
    assert_eq!(registry::rewrap_batch(&t.db, &new, 1).await.unwrap(), 1);
    assert_eq!(registry::pending_rewrap(&t.db, &new).await.unwrap(), 2);
    while registry::rewrap_batch(&t.db, &new, 500).await.unwrap() > 0 {}
    assert_eq!(registry::pending_rewrap(&t.db, &new).await.unwrap(), 0);
    // Every record opens with the rotated keyring.
    let aftercare =
        haven_store::users::find_by_username(&t.db, &Username::parse("aftercare").unwrap())
            .await
            .unwrap()
            .unwrap();
    let list = haven_store::survivors::list(&t.db, &aftercare, None, 10)
        .await
        .unwrap();
    let view = haven_store::survivors::read(
        &t.db,
        &new,
        &aftercare,
        &RequestContext::system("test"),
        list[0].id,
    )
    .await
    .unwrap();
    assert_eq!(
        view.fields[&haven_core::SurvivorField::Name],
        "Nguyễn Thị Hoa"
    );
}

async fn a_key_file_from_another_database_is_refused(t: TestDb) {
    seeded(&t, &Keyring::generate()).await;
    let err = registry::verify_or_register(&t.db, &Keyring::generate())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another database"), "{err}");
}

haven_store::test_both_backends!(
    rotation_rewraps_every_data_key_and_resumes_after_interruption,
    a_key_file_from_another_database_is_refused,
);
