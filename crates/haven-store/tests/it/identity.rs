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
    let user: UserId = add_user(&t, "sophea", "legal").await;
    assert_eq!(totp::status(&t.db, user).await.unwrap(), TotpStatus::Off);
    assert!(!totp::verify(&t.db, user, "123456").await.unwrap());
    let first = totp::begin_enrolment(&t.db, user).await.unwrap();
    // Starting again replaces the unconfirmed secret.
    let secret = totp::begin_enrolment(&t.db, user).await.unwrap();
    assert_ne!(first.base32(), secret.base32());
    assert_eq!(
        totp::status(&t.db, user).await.unwrap(),
        TotpStatus::Pending
    );
    let err = totp::confirm_enrolment(
        &t.db,
        &haven_core::RequestContext::system("test"),
        user,
        "abcdef",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let codes = totp::confirm_enrolment(
        &t.db,
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
        totp::begin_enrolment(&t.db, user).await.unwrap_err(),
        StoreError::Conflict(_)
    ));
    // The confirming code's step is spent; the next one works once.
    assert!(!totp::verify(&t.db, user, &code(secret.base32(), 0))
        .await
        .unwrap());
    let next = code(secret.base32(), 30);
    assert!(totp::verify(&t.db, user, &next).await.unwrap());
    assert!(!totp::verify(&t.db, user, &next).await.unwrap());
    assert!(!totp::verify(&t.db, user, &code(secret.base32(), -300))
        .await
        .unwrap());
    // Recovery codes: once each.
    assert!(totp::verify(&t.db, user, codes[0].expose()).await.unwrap());
    assert!(!totp::verify(&t.db, user, codes[0].expose()).await.unwrap());
    assert!(!totp::verify(&t.db, user, "AAAA-AAAA-AAAA-AAAA")
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
    assert!(!totp::verify(&t.db, other, codes[1].expose()).await.unwrap());
    // An administrator's reset removes the factor and its codes.
    totp::reset(
        &t.db,
        &haven_core::RequestContext::system("test"),
        &haven_core::Username::parse("sophea").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(totp::status(&t.db, user).await.unwrap(), TotpStatus::Off);
    assert!(!totp::verify(&t.db, user, codes[1].expose()).await.unwrap());
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

haven_store::test_both_backends!(
    failures_are_counted_per_account_and_address,
    enrolment_codes_and_recovery,
    pending_logins_expire_with_use,
);
