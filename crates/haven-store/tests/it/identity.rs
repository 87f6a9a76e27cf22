use crate::accounts::add_user;
use haven_core::{ThrottlePolicy, UserId};
use haven_store::testing::TestDb;
use haven_store::totp::{self, TotpStatus};
use haven_store::{login_throttle, pending_logins, StoreError};

fn code(secret: &str, offset: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).unwrap();
    totp.generate(u64::try_from(chrono::Utc::now().timestamp() + offset).unwrap())
}

async fn failures_are_counted_per_account_and_address(t: TestDb) {
    let policy = ThrottlePolicy::default();
    for typed in ["Sophea", " sophea ", "SOPHEA"] {
        login_throttle::record_failure(&t.db, typed, Some("192.0.2.7"))
            .await
            .unwrap();
    }
    login_throttle::record_failure(&t.db, "other", Some("192.0.2.7"))
        .await
        .unwrap();
    let recent = login_throttle::recent(&t.db, &policy, "sophea", Some("192.0.2.7"))
        .await
        .unwrap();
    assert_eq!((recent.account.len(), recent.address.len()), (3, 4));
    assert!(
        recent.account.windows(2).all(|w| w[0] <= w[1]),
        "oldest first"
    );
    login_throttle::clear_account(&t.db, "Sophea")
        .await
        .unwrap();
    let recent = login_throttle::recent(&t.db, &policy, "sophea", Some("192.0.2.7"))
        .await
        .unwrap();
    assert_eq!((recent.account.len(), recent.address.len()), (0, 1));
    let none = login_throttle::recent(&t.db, &policy, "sophea", None)
        .await
        .unwrap();
    assert!(none.address.is_empty());
}

async fn enrolment_codes_and_recovery(t: TestDb) {
    let keys = haven_store::Keyring::generate();
    let user: UserId = add_user(&t, "sophea", "legal").await;
    assert_eq!(totp::status(&t.db, user).await.unwrap(), TotpStatus::Off);
    assert!(!totp::verify(&t.db, &keys, user, "123456").await.unwrap());
    let first = totp::begin_enrolment(&t.db, &keys, user).await.unwrap();
    // Starting again replaces the unconfirmed secret.
    let secret = totp::begin_enrolment(&t.db, &keys, user).await.unwrap();
    assert_ne!(first.base32(), secret.base32());
    assert_eq!(
        totp::status(&t.db, user).await.unwrap(),
        TotpStatus::Pending
    );
    let err = totp::confirm_enrolment(
        &t.db,
        &keys,
        &haven_core::RequestContext::system("test"),
        user,
        "abcdef",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let codes = totp::confirm_enrolment(
        &t.db,
        &keys,
        &haven_core::RequestContext::system("test"),
        user,
        &code(secret.base32(), 0),
    )
    .await
    .unwrap();
    assert_eq!(codes.len(), 10);
    assert_eq!(
        totp::status(&t.db, user).await.unwrap(),
        TotpStatus::On {
            recovery_codes_left: 10
        }
    );
    assert!(matches!(
        totp::begin_enrolment(&t.db, &keys, user).await.unwrap_err(),
        StoreError::Conflict(_)
    ));
    // The confirming code's step is spent; the next one works once.
    assert!(!totp::verify(&t.db, &keys, user, &code(secret.base32(), 0))
        .await
        .unwrap());
    let next = code(secret.base32(), 30);
    assert!(totp::verify(&t.db, &keys, user, &next).await.unwrap());
    assert!(!totp::verify(&t.db, &keys, user, &next).await.unwrap());
    assert!(
        !totp::verify(&t.db, &keys, user, &code(secret.base32(), -300))
            .await
            .unwrap()
    );
    // Recovery codes: once each.
    assert!(totp::verify(&t.db, &keys, user, codes[0].expose())
        .await
        .unwrap());
    assert!(!totp::verify(&t.db, &keys, user, codes[0].expose())
        .await
        .unwrap());
    assert!(!totp::verify(&t.db, &keys, user, "AAAA-AAAA-AAAA-AAAA")
        .await
        .unwrap());
    assert_eq!(
        totp::status(&t.db, user).await.unwrap(),
        TotpStatus::On {
            recovery_codes_left: 9
        }
    );
    // A recovery code works only for its own account.
    let other = add_user(&t, "dara", "aftercare").await;
    assert!(!totp::verify(&t.db, &keys, other, codes[1].expose())
        .await
        .unwrap());
    // An administrator's reset removes the factor and its codes.
    totp::reset(
        &t.db,
        &haven_core::RequestContext::system("test"),
        &haven_core::Username::parse("sophea").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(totp::status(&t.db, user).await.unwrap(), TotpStatus::Off);
    assert!(!totp::verify(&t.db, &keys, user, codes[1].expose())
        .await
        .unwrap());
    assert!(matches!(
        totp::reset(
            &t.db,
            &haven_core::RequestContext::system("test"),
            &haven_core::Username::parse("nobody").unwrap()
        )
        .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn pending_logins_expire_with_use(t: TestDb) {
    let user = add_user(&t, "sophea", "manager").await;
    let token = pending_logins::create(&t.db, user).await.unwrap();
    assert_eq!(
        pending_logins::find(&t.db, &token).await.unwrap(),
        Some(user)
    );
    pending_logins::delete(&t.db, &token).await.unwrap();
    assert_eq!(pending_logins::find(&t.db, &token).await.unwrap(), None);
}

async fn raw_secret(t: &TestDb, user: UserId) -> String {
    haven_store::on_pool!(&t.db, pool => sqlx::query_scalar::<_, String>(
        "SELECT secret FROM user_totp WHERE user_id = $1",
    )
    .bind(user.as_uuid())
    .fetch_one(pool)
    .await
    .unwrap())
}

/// A copy of the database alone cannot mint sign-in codes: the secret is sealed with the
/// master key; one stored in clear by an older version is sealed at start-up, and a key
/// rotation seals it again under the new key.
async fn totp_secrets_are_sealed_at_rest(t: TestDb) {
    let keys = haven_store::Keyring::generate();
    let user: UserId = add_user(&t, "sophea", "legal").await;
    let secret = totp::begin_enrolment(&t.db, &keys, user).await.unwrap();
    let stored = raw_secret(&t, user).await;
    assert!(!stored.contains(secret.base32()), "{stored}");
    assert!(stored.starts_with("sealed:v1:"), "{stored}");
    totp::confirm_enrolment(
        &t.db,
        &keys,
        &haven_core::RequestContext::system("test"),
        user,
        &code(secret.base32(), 0),
    )
    .await
    .unwrap();
    assert!(!raw_secret(&t, user).await.contains(secret.base32()));
    // The whole database file holds no secret in clear.
    if let Some(path) = t.url.sqlite_path() {
        haven_store::on_pool!(&t.db, pool => sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await.unwrap().rows_affected());
        let bytes = std::fs::read(path).unwrap();
        let needle = secret.base32().as_bytes();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }

    // As an older version stored it: in clear. Start-up seals it; codes still work.
    haven_store::on_pool!(&t.db, pool => sqlx::query("UPDATE user_totp SET secret = $1 WHERE user_id = $2")
        .bind(secret.base32())
        .bind(user.as_uuid())
        .execute(pool)
        .await
        .unwrap()
        .rows_affected());
    assert_eq!(totp::reseal_secrets(&t.db, &keys).await.unwrap(), 1);
    assert_eq!(totp::reseal_secrets(&t.db, &keys).await.unwrap(), 0);
    assert!(raw_secret(&t, user).await.starts_with("sealed:v1:"));
    assert!(totp::verify(&t.db, &keys, user, &code(secret.base32(), 30))
        .await
        .unwrap());

    // After a rotation it is sealed under the new key, and still works.
    let rotated = keys.rotated();
    assert_eq!(totp::reseal_secrets(&t.db, &rotated).await.unwrap(), 1);
    assert!(raw_secret(&t, user)
        .await
        .starts_with(&format!("sealed:v1:{}:", rotated.current().id)));
    haven_store::on_pool!(&t.db, pool => sqlx::query("UPDATE user_totp SET last_step = NULL")
        .execute(pool)
        .await
        .unwrap()
        .rows_affected());
    assert!(
        totp::verify(&t.db, &rotated, user, &code(secret.base32(), 0))
            .await
            .unwrap()
    );

    // Sealed for one account, it does not open for another.
    let other: UserId = add_user(&t, "dara", "aftercare").await;
    totp::begin_enrolment(&t.db, &rotated, other).await.unwrap();
    let sealed = raw_secret(&t, user).await;
    haven_store::on_pool!(&t.db, pool => sqlx::query("UPDATE user_totp SET secret = $1 WHERE user_id = $2")
        .bind(&sealed)
        .bind(other.as_uuid())
        .execute(pool)
        .await
        .unwrap()
        .rows_affected());
    assert!(totp::pending_secret(&t.db, &rotated, other).await.is_err());
}

haven_store::test_both_backends!(
    totp_secrets_are_sealed_at_rest,
    failures_are_counted_per_account_and_address,
    enrolment_codes_and_recovery,
    pending_logins_expire_with_use,
);
