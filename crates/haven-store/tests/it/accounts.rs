use haven_core::{DisplayName, Locale, OrgKind, OrgName, Password, Roles, SessionPolicy, Username};
use haven_store::sessions::{self, ClientInfo, SessionKind};
use haven_store::testing::TestDb;
use haven_store::users::{self, NewUser};
use haven_store::{orgs, HashCost, PasswordHasher, StoreError};

fn ctx() -> haven_core::RequestContext {
    haven_core::RequestContext::system("test")
}

fn hasher() -> PasswordHasher {
    PasswordHasher::new(HashCost::MINIMAL).unwrap()
}

pub(crate) async fn add_user(t: &TestDb, username: &str, roles: &str) -> haven_core::UserId {
    let org = match orgs::own(&t.db).await.unwrap() {
        Some(o) => o.id,
        None => orgs::create(
            &t.db,
            &ctx(),
            &OrgName::parse("Field Office").unwrap(),
            OrgKind::Own,
        )
        .await
        .unwrap(),
    };
    users::create(
        &t.db,
        &ctx(),
        &hasher(),
        &NewUser {
            org_id: org,
            username: Username::parse(username).unwrap(),
            display_name: DisplayName::parse("Sophea Chan").unwrap(),
            roles: Roles::parse_list(roles).unwrap(),
            locale: Locale::Km,
        },
        &Password::new("lotus river morning"),
    )
    .await
    .unwrap()
}

async fn login_accepts_only_the_right_password(t: TestDb) {
    add_user(&t, "sophea", "aftercare,manager").await;
    let user = users::authenticate(
        &t.db,
        &ctx(),
        &hasher(),
        "Sophea",
        &Password::new("lotus river morning"),
    )
    .await
    .unwrap();
    assert_eq!(user.username.as_str(), "sophea");
    assert_eq!(user.roles.to_string(), "aftercare,manager");
    assert_eq!(user.locale, Locale::Km);
    for (name, pw) in [
        ("sophea", "lotus river evening"),
        ("nobody", "lotus river morning"),
        ("x", "y"),
    ] {
        let err = users::authenticate(&t.db, &ctx(), &hasher(), name, &Password::new(pw))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::BadCredentials), "{name}: {err:?}");
    }
}

async fn disabled_accounts_cannot_log_in_and_lose_their_sessions(t: TestDb) {
    let id = add_user(&t, "dara", "legal").await;
    let (token, _) = sessions::start(
        &t.db,
        &ctx(),
        id,
        SessionKind::Browser,
        &SessionPolicy::default(),
        &ClientInfo::default(),
    )
    .await
    .unwrap();
    assert!(sessions::resolve(&t.db, &token, &SessionPolicy::default())
        .await
        .unwrap()
        .is_some());
    users::set_disabled(&t.db, &ctx(), &Username::parse("dara").unwrap(), true)
        .await
        .unwrap();
    assert!(sessions::resolve(&t.db, &token, &SessionPolicy::default())
        .await
        .unwrap()
        .is_none());
    let err = users::authenticate(
        &t.db,
        &ctx(),
        &hasher(),
        "dara",
        &Password::new("lotus river morning"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::BadCredentials));
    users::set_disabled(&t.db, &ctx(), &Username::parse("dara").unwrap(), false)
        .await
        .unwrap();
    assert!(users::authenticate(
        &t.db,
        &ctx(),
        &hasher(),
        "dara",
        &Password::new("lotus river morning")
    )
    .await
    .is_ok());
}

async fn duplicate_usernames_are_a_conflict_and_write_nothing(t: TestDb) {
    add_user(&t, "bopha", "manager").await;
    let own = orgs::own(&t.db).await.unwrap().unwrap();
    let err = users::create(
        &t.db,
        &ctx(),
        &hasher(),
        &NewUser {
            org_id: own.id,
            username: Username::parse("BOPHA").unwrap(),
            display_name: DisplayName::parse("Another").unwrap(),
            roles: Roles::parse_list("admin").unwrap(),
            locale: Locale::En,
        },
        &Password::new("lotus river morning"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("already taken"), "{err}");
    let all = users::list(&t.db, None, 50).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].roles.to_string(), "manager");
}

async fn weak_passwords_are_refused_before_writing(t: TestDb) {
    add_user(&t, "rithy", "investigator").await;
    let err = users::set_password(
        &t.db,
        &ctx(),
        &hasher(),
        &Username::parse("rithy").unwrap(),
        &Password::new("password1234"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(users::authenticate(
        &t.db,
        &ctx(),
        &hasher(),
        "rithy",
        &Password::new("lotus river morning")
    )
    .await
    .is_ok());
}

async fn password_reset_ends_sessions(t: TestDb) {
    let id = add_user(&t, "lan", "aftercare").await;
    let policy = SessionPolicy::default();
    let (token, _) = sessions::start(
        &t.db,
        &ctx(),
        id,
        SessionKind::Api,
        &policy,
        &ClientInfo::default(),
    )
    .await
    .unwrap();
    users::set_password(
        &t.db,
        &ctx(),
        &hasher(),
        &Username::parse("lan").unwrap(),
        &Password::new("new moon over the river"),
    )
    .await
    .unwrap();
    assert!(sessions::resolve(&t.db, &token, &policy)
        .await
        .unwrap()
        .is_none());
    assert!(users::authenticate(
        &t.db,
        &ctx(),
        &hasher(),
        "lan",
        &Password::new("new moon over the river")
    )
    .await
    .is_ok());
}

async fn logout_and_logout_everywhere(t: TestDb) {
    let id = add_user(&t, "kimheng", "partner").await;
    let policy = SessionPolicy::default();
    let client = ClientInfo {
        addr: Some("127.0.0.1".into()),
        user_agent: Some("phone".into()),
    };
    let (a, _) = sessions::start(&t.db, &ctx(), id, SessionKind::Browser, &policy, &client)
        .await
        .unwrap();
    let (b, _) = sessions::start(&t.db, &ctx(), id, SessionKind::Browser, &policy, &client)
        .await
        .unwrap();
    let (c, _) = sessions::start(&t.db, &ctx(), id, SessionKind::Api, &policy, &client)
        .await
        .unwrap();
    assert_eq!(sessions::list_open(&t.db, id).await.unwrap().len(), 3);
    sessions::revoke(&t.db, &ctx(), &a).await.unwrap();
    assert!(sessions::resolve(&t.db, &a, &policy)
        .await
        .unwrap()
        .is_none());
    assert!(sessions::resolve(&t.db, &b, &policy)
        .await
        .unwrap()
        .is_some());
    assert_eq!(sessions::revoke_all(&t.db, &ctx(), id).await.unwrap(), 2);
    assert!(sessions::resolve(&t.db, &b, &policy)
        .await
        .unwrap()
        .is_none());
    assert!(sessions::resolve(&t.db, &c, &policy)
        .await
        .unwrap()
        .is_none());
}

async fn a_shortened_absolute_limit_ends_existing_sessions(t: TestDb) {
    let id = add_user(&t, "sreyleak", "auditor").await;
    let (token, _) = sessions::start(
        &t.db,
        &ctx(),
        id,
        SessionKind::Browser,
        &SessionPolicy::default(),
        &ClientInfo::default(),
    )
    .await
    .unwrap();
    let zero = SessionPolicy {
        idle: chrono::Duration::minutes(30),
        absolute: chrono::Duration::zero(),
    };
    assert!(sessions::resolve(&t.db, &token, &zero)
        .await
        .unwrap()
        .is_none());
}

async fn user_list_pages_by_cursor(t: TestDb) {
    for name in ["anna", "bora", "chan", "dara", "eng"] {
        add_user(&t, name, "aftercare").await;
    }
    let first = users::list(&t.db, None, 2).await.unwrap();
    let names: Vec<_> = first.iter().map(|u| u.username.to_string()).collect();
    assert_eq!(names, ["anna", "bora"]);
    let second = users::list(&t.db, Some("bora"), 2).await.unwrap();
    let names: Vec<_> = second.iter().map(|u| u.username.to_string()).collect();
    assert_eq!(names, ["chan", "dara"]);
    assert!(second.iter().all(|u| u.roles.to_string() == "aftercare"));
}

async fn settings_are_validated_and_applied(t: TestDb) {
    use haven_core::SettingKey;
    haven_store::settings::set(&t.db, &ctx(), SettingKey::SessionIdleMinutes, "15")
        .await
        .unwrap();
    haven_store::settings::set(&t.db, &ctx(), SettingKey::SessionIdleMinutes, "20")
        .await
        .unwrap();
    let err = haven_store::settings::set(&t.db, &ctx(), SettingKey::SessionAbsoluteHours, "0")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("between 1 and 168"), "{err}");
    let s = haven_store::settings::load(&t.db).await.unwrap();
    assert_eq!(s.session.idle, chrono::Duration::minutes(20));
    assert_eq!(s.session.absolute, SessionPolicy::default().absolute);
}

/// The actions recorded since `after`, oldest first.
async fn actions_since(t: &TestDb, after: i64) -> Vec<(String, String, Option<String>)> {
    let mut events = haven_store::audit::list(
        &t.db,
        &haven_store::audit::AuditFilter::default(),
        None,
        200,
    )
    .await
    .unwrap();
    events.retain(|e| e.seq > after);
    events.reverse();
    events
        .into_iter()
        .map(|e| (e.action, e.actor, e.entity_id))
        .collect()
}

async fn last_seq(t: &TestDb) -> i64 {
    haven_store::audit::verify(&t.db, |_, _| {})
        .await
        .unwrap()
        .checked as i64
}

async fn account_changes_and_logins_are_audited(t: TestDb) {
    let id = add_user(&t, "sreypov", "aftercare").await;
    let uid = Some(id.to_string());
    let start = last_seq(&t).await;
    let pw = Password::new("lotus river morning");
    let user = users::authenticate(&t.db, &ctx(), &hasher(), "sreypov", &pw)
        .await
        .unwrap();
    assert!(
        users::authenticate(&t.db, &ctx(), &hasher(), "sreypov", &Password::new("nope"))
            .await
            .is_err()
    );
    assert!(users::authenticate(&t.db, &ctx(), &hasher(), "nobody", &pw)
        .await
        .is_err());
    let policy = SessionPolicy::default();
    let (token, session) = sessions::start(
        &t.db,
        &ctx(),
        id,
        SessionKind::Api,
        &policy,
        &ClientInfo::default(),
    )
    .await
    .unwrap();
    // Resolving (and touching the idle clock) is not an audited write.
    sessions::resolve(&t.db, &token, &policy).await.unwrap();
    sessions::revoke(&t.db, &ctx(), &token).await.unwrap();
    // Revoking an ended session changes nothing, so records nothing.
    sessions::revoke(&t.db, &ctx(), &token).await.unwrap();
    sessions::revoke_all(&t.db, &ctx(), id).await.unwrap();
    users::set_locale(&t.db, &ctx(), id, Locale::Vi)
        .await
        .unwrap();
    let name = Username::parse("sreypov").unwrap();
    users::set_disabled(&t.db, &ctx(), &name, true)
        .await
        .unwrap();
    users::set_disabled(&t.db, &ctx(), &name, false)
        .await
        .unwrap();
    users::set_password(
        &t.db,
        &ctx(),
        &hasher(),
        &name,
        &Password::new("new moon over the river"),
    )
    .await
    .unwrap();
    haven_store::settings::set(
        &t.db,
        &ctx(),
        haven_core::SettingKey::SessionIdleMinutes,
        "17",
    )
    .await
    .unwrap();
    let sys = "system:test".to_owned();
    let sid = Some(session.id.to_string());
    assert_eq!(
        actions_since(&t, start).await,
        vec![
            ("auth.login".into(), user.id.to_string(), uid.clone()),
            ("auth.login_failed".into(), sys.clone(), uid.clone()),
            ("auth.login_failed".into(), sys.clone(), None),
            ("session.start".into(), sys.clone(), sid.clone()),
            ("session.revoke".into(), sys.clone(), sid),
            ("session.revoke_all".into(), sys.clone(), uid.clone()),
            ("user.set_locale".into(), sys.clone(), uid.clone()),
            ("user.disable".into(), sys.clone(), uid.clone()),
            ("user.enable".into(), sys.clone(), uid.clone()),
            ("user.set_password".into(), sys.clone(), uid),
            (
                "setting.set".into(),
                sys,
                Some("session_idle_minutes".into())
            ),
        ]
    );
    let events =
        haven_store::audit::list(&t.db, &haven_store::audit::AuditFilter::default(), None, 1)
            .await
            .unwrap();
    // A setting's value is never recorded, only its name.
    assert_eq!(events[0].fields, ["value"]);
    assert_eq!(events[0].entity_id.as_deref(), Some("session_idle_minutes"));
}

haven_store::test_both_backends!(
    account_changes_and_logins_are_audited,
    login_accepts_only_the_right_password,
    disabled_accounts_cannot_log_in_and_lose_their_sessions,
    duplicate_usernames_are_a_conflict_and_write_nothing,
    weak_passwords_are_refused_before_writing,
    password_reset_ends_sessions,
    logout_and_logout_everywhere,
    a_shortened_absolute_limit_ends_existing_sessions,
    user_list_pages_by_cursor,
    settings_are_validated_and_applied,
);
