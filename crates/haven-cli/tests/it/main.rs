//! The `haven` binary as an operator uses it: flags, errors, exit codes, serve and shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const HAVEN: &str = env!("CARGO_BIN_EXE_haven");

fn haven(args: &[&str]) -> Output {
    Command::new(HAVEN)
        .args(args)
        .env_remove("HAVEN_DATABASE_URL")
        .env("HAVEN_LOG_FORMAT", "json")
        .output()
        .expect("run haven")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["migrate", "--help"],
        vec!["user", "--help"],
        vec!["user", "add", "--help"],
        vec!["user", "list", "--help"],
        vec!["user", "disable", "--help"],
        vec!["user", "enable", "--help"],
        vec!["user", "reset-password", "--help"],
        vec!["user", "reset-totp", "--help"],
        vec!["user", "languages", "--help"],
        vec!["org", "add", "--help"],
        vec!["org", "list", "--help"],
        vec!["config", "default", "--help"],
        vec!["config", "check", "--help"],
        vec!["bench", "--help"],
        vec!["audit", "--help"],
        vec!["audit", "verify", "--help"],
    ] {
        let out = haven(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage:"), "{args:?}");
    }
    assert!(text(&haven(&["demo", "--help"]).stdout).contains("--require-totp"));
    let serve = text(&haven(&["serve", "--help"]).stdout);
    for flag in [
        "--database-url",
        "--listen",
        "--data-dir",
        "--config",
        "HAVEN_DATABASE_URL",
    ] {
        assert!(serve.contains(flag), "serve --help mentions {flag}");
    }
}

#[test]
fn unknown_flags_are_named() {
    let out = haven(&["serve", "--lisen", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("--lisen"), "{err}");
    assert!(
        err.contains("--listen"),
        "clap suggests the right flag: {err}"
    );
}

#[test]
fn bad_flag_values_say_what_is_accepted() {
    let out = haven(&[
        "user",
        "add",
        "--username",
        "x",
        "--name",
        "y",
        "--roles",
        "admin",
        "--locale",
        "fr",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("fr") && err.contains("en") && err.contains("km") && err.contains("vi"),
        "{err}"
    );
    let out = haven(&[
        "serve",
        "--listen",
        "localhost",
        "--database-url",
        "sqlite://nowhere.db",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--listen") && err.contains("127.0.0.1:8080"),
        "{err}"
    );
}

#[test]
fn the_default_config_passes_its_own_check() {
    let out = haven(&["config", "default"]);
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haven.toml");
    std::fs::write(&path, &out.stdout).unwrap();
    let check = haven(&["config", "check", path.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(text(&check.stdout).contains("OK"));
}

#[test]
fn a_bad_config_file_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haven.toml");
    for (content, expected) in [
        ("listen = \"127.0.0.1:8080\"\nport = 9\n", "port"),
        (
            "[http]\nrequest_timeout_seconds = 0\n",
            "http.request_timeout_seconds",
        ),
        ("database_url = \"mysql://db/haven\"\n", "database_url"),
        ("[log]\nformat = \"xml\"\n", "auto"),
    ] {
        std::fs::write(&path, content).unwrap();
        let out = haven(&["config", "check", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{content}");
        let err = text(&out.stderr);
        assert!(err.contains(expected), "{content}: {err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn an_unreachable_database_is_one_clear_line_and_exit_1() {
    let out = haven(&[
        "migrate",
        "--database-url",
        "postgres://haven:secret@127.0.0.1:1/haven",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with(
            "error: cannot reach the database at postgres://haven:***@127.0.0.1:1/haven"
        ),
        "{err}"
    );
    assert!(!err.contains("secret"), "the password is never printed");
    assert!(!err.contains("panicked") && !err.contains("backtrace"));
}

#[test]
fn serve_refuses_a_sqlite_file_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/typo.db", dir.path().display());
    let out = haven(&["serve", "--database-url", &url, "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("does not exist") && err.contains("haven migrate"),
        "{err}"
    );
    assert!(!dir.path().join("typo.db").exists());
}

#[test]
fn accounts_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    assert!(haven(&["migrate", "--data-dir", data]).status.success());
    let out = haven(&[
        "user",
        "add",
        "--data-dir",
        data,
        "--username",
        "sophea",
        "--name",
        "Sophea",
        "--roles",
        "aftercare",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("haven org add"),
        "{}",
        text(&out.stderr)
    );
    assert!(haven(&[
        "org",
        "add",
        "--data-dir",
        data,
        "Field Office",
        "--kind",
        "own"
    ])
    .status
    .success());
    let out = haven(&[
        "user",
        "add",
        "--data-dir",
        data,
        "--username",
        "sophea",
        "--name",
        "Sophea Chan",
        "--roles",
        "aftercare,manager",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Password (shown once"));
    let out = haven(&[
        "user",
        "add",
        "--data-dir",
        data,
        "--username",
        "sophea",
        "--name",
        "Other",
        "--roles",
        "admin",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already taken"));
    let out = haven(&[
        "user",
        "add",
        "--data-dir",
        data,
        "--username",
        "dara",
        "--name",
        "Dara",
        "--roles",
        "janitor",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("'janitor' is not a role"));

    let mut child = Command::new(HAVEN)
        .args([
            "user",
            "reset-password",
            "--data-dir",
            data,
            "sophea",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("at least 12 characters"));

    assert!(haven(&["user", "disable", "--data-dir", data, "sophea"])
        .status
        .success());
    let list = text(&haven(&["user", "list", "--data-dir", data]).stdout);
    let row = list.lines().find(|l| l.starts_with("sophea")).unwrap();
    assert!(
        row.contains("aftercare,manager") && row.contains("disabled"),
        "{row}"
    );
    let out = haven(&["user", "disable", "--data-dir", data, "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not found"));
    let out = haven(&["user", "reset-totp", "--data-dir", data, "sophea"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Two-step sign-in removed"));
    let out = haven(&["user", "reset-totp", "--data-dir", data, "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not found"));
    let out = haven(&["user", "languages", "--data-dir", data, "sophea", "km, VI"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = haven(&[
        "user",
        "languages",
        "--data-dir",
        data,
        "sophea",
        "Vietnamese",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a language code"));
}

/// A running `haven serve`, stopped with SIGTERM on drop.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let started = Instant::now();
        let child = Command::new(HAVEN)
            .args(args)
            .env("HAVEN_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Owned by the guard from here, so the process is reaped on every path.
        let mut server = Server {
            child,
            base: String::new(),
        };
        let stderr = server.child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = String::new();
        while let Some(Ok(line)) = lines.next() {
            seen.push_str(&line);
            seen.push('\n');
            if let Some(at) = line.find("\"address\":\"") {
                let rest = &line[at + 11..];
                let address = &rest[..rest.find('"').unwrap()];
                server.base = format!("http://{address}");
                // Keep draining the log so the server never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines.by_ref() {});
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no address logged: {seen}"
            );
        }
        panic!("haven serve exited early: {seen}");
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_and_stop_gracefully(database_url: &str) {
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("haven.key");
    let key_file = key_file.to_str().unwrap();
    let out = haven(&["migrate", "--database-url", database_url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("database schema is up to date"));
    let out = haven(&[
        "serve",
        "--database-url",
        database_url,
        "--key-file",
        key_file,
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1), "no key file, no start");
    assert!(
        text(&out.stderr).contains("haven keys init"),
        "{}",
        text(&out.stderr)
    );
    assert!(haven(&["keys", "init", "--key-file", key_file])
        .status
        .success());
    assert!(haven(&[
        "org",
        "add",
        "--database-url",
        database_url,
        "Field Office",
        "--kind",
        "own"
    ])
    .status
    .success());
    let mut add = Command::new(HAVEN)
        .args([
            "user",
            "add",
            "--database-url",
            database_url,
            "--username",
            "bopha",
            "--name",
            "Bopha Keo",
            "--roles",
            "manager",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"lotus river morning tea\n")
        .unwrap();
    assert!(add.wait().unwrap().success());

    let mut server = Server::start(&[
        "serve",
        "--database-url",
        database_url,
        "--key-file",
        key_file,
        "--listen",
        "127.0.0.1:0",
    ]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let ready = reqwest::get(format!("{}/readyz", server.base)).await.unwrap();
        assert_eq!(ready.status(), 200);
        // A login does ~100 ms of deliberate password hashing: stop the server while it is
        // in flight; it must still be answered.
        let client = reqwest::Client::new();
        let url = format!("{}/api/v1/auth/login", server.base);
        let login = tokio::spawn(async move {
            client
                .post(url)
                .json(&serde_json::json!({"username": "bopha", "password": "lotus river morning tea"}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        let status = server.terminate();
        assert!(status.success(), "exit status after SIGTERM: {status:?}");
        assert_eq!(login.await.unwrap().unwrap(), 200, "the in-flight login was answered");
    });
}

#[test]
fn serve_on_sqlite_migrates_serves_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    serve_and_stop_gracefully(&format!("sqlite://{}/haven.db", dir.path().display()));
}

#[test]
fn serve_on_postgres_migrates_an_empty_database_and_serves() {
    let Some(db) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(haven_store::testing::TestDb::postgres_empty())
    else {
        return;
    };
    serve_and_stop_gracefully(db.url.expose());
}

#[test]
fn demo_serves_the_login_page_with_its_users() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let mut child = Command::new(HAVEN)
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .env("HAVEN_DEMO_PASSWORD", "demo passphrase 2026")
        .env("HAVEN_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut url = None;
    let mut printed = String::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.trim().strip_prefix("Haven demo is running at ") {
            url = Some(rest.trim_end_matches('/').to_owned());
        }
        if line.contains("Press Ctrl-C") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let url = url.unwrap_or_else(|| panic!("no URL printed: {printed}"));
    assert!(
        printed.contains("partner-worldhope") && printed.contains("auditor"),
        "{printed}"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let login = reqwest::get(format!("{url}/login")).await.unwrap();
        assert_eq!(login.status(), 200);
        assert!(login.text().await.unwrap().contains("Sign in"));
        let response = reqwest::Client::new()
            .post(format!("{url}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "partner-hagar", "password": "demo passphrase 2026"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    });
    let _ = child.kill();
    let _ = child.wait();
    // A second demo in the same folder is refused rather than mixing data.
    let out = Command::new(HAVEN)
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already holds a database"));
}

#[test]
fn a_wrong_or_exposed_key_file_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let key = dir.path().join("haven.key");
    let other = dir.path().join("other.key");
    assert!(haven(&["migrate", "--data-dir", data]).status.success());
    assert!(haven(&["keys", "init", "--data-dir", data])
        .status
        .success());
    assert!(key.exists());
    let again = haven(&["keys", "init", "--data-dir", data]);
    assert_eq!(again.status.code(), Some(1), "never overwrites a key file");
    // The first start binds the key file to the database.
    let mut server = Server::start(&["serve", "--data-dir", data, "--listen", "127.0.0.1:0"]);
    assert!(server.terminate().success());
    assert!(
        haven(&["keys", "init", "--key-file", other.to_str().unwrap()])
            .status
            .success()
    );
    let out = haven(&[
        "serve",
        "--data-dir",
        data,
        "--key-file",
        other.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("key file belongs to another database"),
        "{}",
        text(&out.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = haven(&["serve", "--data-dir", data, "--listen", "127.0.0.1:0"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("chmod 600"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn the_key_file_from_before_a_rotation_stops_start_up_naming_the_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let key = dir.path().join("haven.key");
    let old = dir.path().join("old.key");
    assert!(haven(&["migrate", "--data-dir", data]).status.success());
    assert!(haven(&["keys", "init", "--data-dir", data])
        .status
        .success());
    let mut server = Server::start(&["serve", "--data-dir", data, "--listen", "127.0.0.1:0"]);
    assert!(server.terminate().success());
    std::fs::copy(&key, &old).unwrap();
    let rotated = haven(&["keys", "rotate", "--data-dir", data]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let out = haven(&[
        "serve",
        "--data-dir",
        data,
        "--key-file",
        old.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("this key file was replaced by rotation on")
            && stderr.contains("Use the current key file"),
        "{stderr}"
    );
    let mut server = Server::start(&["serve", "--data-dir", data, "--listen", "127.0.0.1:0"]);
    assert!(server.terminate().success());
}

#[test]
fn audit_verify_passes_a_sound_log_and_names_a_tampered_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haven.db");
    let url = format!("sqlite://{}", path.display());
    assert!(haven(&["migrate", "--database-url", &url]).status.success());
    for name in ["Field Office", "Hagar", "World Hope International"] {
        let kind = if name == "Field Office" {
            "own"
        } else {
            "partner"
        };
        let out = haven(&["org", "add", name, "--kind", kind, "--database-url", &url]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let good = haven(&["audit", "verify", "--database-url", &url]);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
    let stdout = text(&good.stdout);
    assert!(stdout.contains("Checked 3 of 3"), "{stdout}");
    assert!(stdout.contains("intact"), "{stdout}");

    // Edit one event behind Haven's back, as someone with the database file could.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id: Vec<u8> = runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("UPDATE audit_events SET actor = 'system:someone-else' WHERE seq = 2")
            .execute(&pool)
            .await
            .unwrap();
        let id = sqlx::query_scalar("SELECT id FROM audit_events WHERE seq = 2")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        id
    });
    let id = uuid_text(&id);
    let bad = haven(&["audit", "verify", "--database-url", &url]);
    assert_eq!(bad.status.code(), Some(1));
    let stdout = text(&bad.stdout);
    let stderr = text(&bad.stderr);
    assert!(stdout.contains("Checked 1 of 3"), "{stdout}");
    assert!(
        stderr.contains("event 2") && stderr.contains(&id),
        "{stderr}"
    );
    assert!(stderr.contains("edited"), "{stderr}");
}

/// A 16-byte UUID as its hyphenated text.
fn uuid_text(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
