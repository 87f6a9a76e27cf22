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

async fn the_key_file_from_before_a_rotation_is_refused_with_the_date(t: TestDb) {
    let old = Keyring::generate();
    seeded(&t, &old).await;
    let new = old.rotated();
    registry::verify_or_register(&t.db, &new).await.unwrap();
    while registry::rewrap_batch(&t.db, &new, 500).await.unwrap() > 0 {}
    let err = registry::verify_or_register(&t.db, &old)
        .await
        .unwrap_err()
        .to_string();
    let today = haven_store::clock::now().format("%Y-%m-%d").to_string();
    assert!(
        err.contains("replaced by rotation on") && err.contains(&today),
        "{err}"
    );
    assert!(err.contains("use the current key file") || err.contains("Use the current key file"));
    // The current key file still opens, and a second rotation refuses the first's file too.
    registry::verify_or_register(&t.db, &new).await.unwrap();
    let newer = new.rotated();
    registry::verify_or_register(&t.db, &newer).await.unwrap();
    assert!(registry::verify_or_register(&t.db, &new).await.is_err());
    registry::verify_or_register(&t.db, &newer).await.unwrap();
}

haven_store::test_both_backends!(
    the_key_file_from_before_a_rotation_is_refused_with_the_date,
    rotation_rewraps_every_data_key_and_resumes_after_interruption,
    a_key_file_from_another_database_is_refused,
);
