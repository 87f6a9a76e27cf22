//! Silent connections (opened, never sending a request) must not lock anyone out.

use crate::support::TestApp;
use haven_store::testing::TestDb;
use haven_web::WebConfig;
use std::io::Read;
use std::time::Duration;

const SILENT: usize = 2_000;
const LIMIT: usize = 100;

/// Lets this process hold the silent connections and the server's side of them, whatever
/// soft limit the test runner started with (often 1024).
fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    let wanted = 2 * SILENT as u64 + 1_000;
    if limit.current.is_some_and(|current| current < wanted) {
        let raised = rustix::process::Rlimit {
            current: limit.maximum.map(|max| max.min(wanted)).or(Some(wanted)),
            maximum: limit.maximum,
        };
        setrlimit(Resource::Nofile, raised).unwrap();
    }
}

/// How many of the connections the server still holds open.
fn still_open(connections: &mut [std::net::TcpStream]) -> usize {
    let mut buf = [0u8; 16];
    let mut open = 0;
    for connection in connections.iter_mut() {
        if matches!(connection.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        {
            open += 1;
        }
    }
    open
}

async fn silent_connections_cannot_lock_out_health_checks_or_sign_in(db: TestDb) {
    raise_open_file_limit();
    let config = WebConfig {
        max_connections: LIMIT,
        header_read_timeout: Duration::from_secs(3),
        ..WebConfig::default()
    };
    let app = TestApp::spawn_with(db, config).await;
    let mut silent = Vec::with_capacity(SILENT);
    for _ in 0..SILENT {
        let stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        silent.push(stream.into_std().unwrap());
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let health = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let login = client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": crate::support::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status(),
        200,
        "sign-in while silent connections are held"
    );

    // The server holds no more than its limit and the health-check reserve.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let open = still_open(&mut silent);
    assert!(
        open <= LIMIT + haven_web::connections::HEALTH_RESERVE,
        "{open} silent connections still held"
    );
    // And none of them outlives the header read timeout.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(still_open(&mut silent), 0);
    let health = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

/// When every connection is busy, a health check still gets through on the reserve, and
/// anything else is told to come back rather than left hanging.
async fn health_checks_are_answered_when_every_connection_is_busy(db: TestDb) {
    let config = WebConfig {
        max_connections: 2,
        header_read_timeout: Duration::from_secs(5),
        ..WebConfig::default()
    };
    let app = TestApp::spawn_with(db, config).await;
    // Two connections each in the middle of a request: headers sent, body still to come.
    let mut busy = Vec::new();
    for _ in 0..2 {
        use tokio::io::AsyncWriteExt;
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        stream
            .write_all(
                b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
            )
            .await
            .unwrap();
        busy.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let health = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let other = client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(other.status(), 503);
    assert_eq!(other.headers()["retry-after"], "5");
    drop(busy);
}

haven_store::test_both_backends!(
    silent_connections_cannot_lock_out_health_checks_or_sign_in,
    health_checks_are_answered_when_every_connection_is_busy,
);
