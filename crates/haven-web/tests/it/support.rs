use haven_core::Password;
use haven_store::testing::TestDb;
use haven_store::{HashCost, Keyring, PasswordHasher};
use haven_web::{AppState, WebConfig};
use std::net::SocketAddr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const DEMO_PASSWORD: &str = "demo passphrase 2026";

/// The largest evidence upload the test app accepts.
pub const TEST_UPLOAD_LIMIT: u64 = 4_000_000;

/// Every demo login, as (username, roles).
pub const DEMO_USERS: [&str; 9] = [
    "admin",
    "investigator",
    "aftercare",
    "aftercare2",
    "legal",
    "manager",
    "auditor",
    "partner-worldhope",
    "partner-hagar",
];

/// The application serving on a random loopback port, over a fresh demo database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    /// The evidence locker (files under a temporary folder, 4 MB largest upload).
    pub locker: haven_store::evidence::Locker,
    /// The key file's keys, shared with any other instance over the same database.
    pub keyring: Keyring,
    _evidence_dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(db: TestDb) -> TestApp {
        TestApp::spawn_with(db, WebConfig::default()).await
    }

    /// As `spawn`, with the web configuration given.
    pub async fn spawn_with(db: TestDb, config: WebConfig) -> TestApp {
        // Real Argon2id at its lowest cost: these suites sign in hundreds of times.
        let hasher = PasswordHasher::new(HashCost::MINIMAL).unwrap();
        haven_store::demo::seed(&db.db, &hasher, &Password::new(DEMO_PASSWORD))
            .await
            .unwrap();
        haven_store::demo::seed_settings(&db.db, false)
            .await
            .unwrap();
        let keyring = Keyring::generate();
        haven_store::crypto::registry::verify_or_register(&db.db, &keyring)
            .await
            .unwrap();
        haven_store::demo::seed_survivors(&db.db, &keyring)
            .await
            .unwrap();
        haven_store::demo_casework::seed_casework(&db.db, &keyring)
            .await
            .unwrap();
        let evidence_dir = tempfile::tempdir().unwrap();
        let locker =
            haven_store::evidence::Locker::open(evidence_dir.path(), TEST_UPLOAD_LIMIT).unwrap();
        haven_store::demo_legal::seed_legal(&db.db, &keyring, &locker)
            .await
            .unwrap();
        let state = AppState::new(db.db.clone(), hasher, config)
            .await
            .unwrap()
            .with_keyring(keyring.clone())
            .with_evidence(locker.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let server = tokio::spawn(haven_web::serve(listener, state, async {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            db,
            locker,
            keyring,
            _evidence_dir: evidence_dir,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client that keeps cookies and does not follow redirects (tests look at them).
    pub fn browser_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// A client that keeps no cookies and does not follow redirects: the test sends the
    /// cookies it chooses.
    pub fn browser_client_without_cookies(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    /// Signs in through the API and returns the bearer token.
    pub async fn token(&self, username: &str) -> String {
        let response = self
            .client()
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": username, "password": DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "login as {username}");
        let body: serde_json::Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// A second instance of the application over the same database, as behind a load
    /// balancer. It reads the settings afresh, so settings changed since start apply to it.
    pub async fn another_instance(&self) -> Instance {
        let hasher = PasswordHasher::new(HashCost::MINIMAL).unwrap();
        let state = AppState::new(self.db.db.clone(), hasher, WebConfig::default())
            .await
            .unwrap()
            .with_keyring(self.keyring.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        tokio::spawn(haven_web::serve(listener, state, async {
            let _ = rx.await;
        }));
        Instance {
            addr,
            _shutdown: tx,
        }
    }

    /// Stops accepting and waits for requests in flight to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Signs in through the login form like a browser: fetches the form for its CSRF token,
/// posts it, and returns the client holding the session cookie.
pub async fn browser_login(app: &TestApp, username: &str) -> reqwest::Client {
    let client = app.browser_client();
    let csrf = csrf_from(
        &client
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("username", username),
            ("password", DEMO_PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "form login as {username}");
    assert_eq!(response.headers()["location"], "/");
    client
}

/// The CSRF token embedded in a page's forms.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// Another server over a `TestApp`'s database; stops when dropped.
pub struct Instance {
    pub addr: SocketAddr,
    _shutdown: oneshot::Sender<()>,
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

/// Calls the API as the holder of `token` (or anonymously) and returns the status and the
/// JSON answer (`null` when there is none).
pub async fn api_call(
    app: &TestApp,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (reqwest::StatusCode, serde_json::Value) {
    let url = app.url(path);
    let client = app.client();
    let mut request = match method {
        "get" => client.get(url),
        "post" => client.post(url),
        "patch" => client.patch(url),
        "put" => client.put(url),
        "delete" => client.delete(url),
        other => panic!("unknown method {other}"),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}
