//! Haven's files on disk are readable by its own account only.

use haven_core::Password;
use haven_store::crypto::registry;
use haven_store::evidence::Locker;
use haven_store::testing::TestDb;
use haven_store::{ConnectOptions, DatabaseUrl, Db, HashCost, Keyring, PasswordHasher};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

async fn open(path: &Path) -> Db {
    let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
    let options = ConnectOptions {
        create_if_missing: true,
        ..ConnectOptions::default()
    };
    Db::connect(&url, &options).await.unwrap()
}

#[tokio::test]
async fn a_new_sqlite_database_its_wal_and_its_folders_are_private() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("haven-data").join("db");
    let path = data.join("haven.db");
    let db = open(&path).await;
    db.migrate().await.unwrap();
    assert_eq!(mode(&root.path().join("haven-data")), 0o700);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&with_suffix(&path, "-wal")), 0o600);
    assert_eq!(mode(&with_suffix(&path, "-shm")), 0o600);
    db.close().await;
}

#[tokio::test]
async fn a_database_left_readable_by_others_is_made_private_when_opened() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("haven.db");
    let db = open(&path).await;
    db.migrate().await.unwrap();
    db.close().await;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let db = open(&path).await;
    db.ping().await.unwrap();
    assert_eq!(mode(&path), 0o600);
    db.close().await;
}

async fn evidence_folders_and_files_are_private(t: TestDb) {
    let keyring = Keyring::generate();
    let hasher = PasswordHasher::new(HashCost::MINIMAL).unwrap();
    haven_store::demo::seed(&t.db, &hasher, &Password::new("demo passphrase 2026"))
        .await
        .unwrap();
    registry::verify_or_register(&t.db, &keyring).await.unwrap();
    haven_store::demo::seed_survivors(&t.db, &keyring)
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("evidence");
    let locker = Locker::open(&dir, 1_000_000).unwrap();
    haven_store::demo_legal::seed_legal(&t.db, &keyring, &locker)
        .await
        .unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("tmp")), 0o700);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
            files += 1;
        }
    }
    assert!(files > 0, "the demo case stores evidence files");
}

haven_store::test_both_backends!(evidence_folders_and_files_are_private);
