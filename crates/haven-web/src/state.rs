//! What every request handler can reach: the database, the password hasher, settings.

use haven_core::Settings;
use haven_store::{Db, Keyring, PasswordHasher, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// Web-layer configuration, decided by the CLI from flags, environment and config file.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Set when Haven is reached over HTTPS (directly or through a proxy): cookies become
    /// `Secure` and HSTS is sent.
    pub behind_tls: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// A request taking longer than this is answered 408 and abandoned.
    pub request_timeout: Duration,
    /// Reverse proxies / load balancers whose `X-Forwarded-For` is believed. Without this,
    /// every client behind a proxy shares the proxy's address, and the per-address sign-in
    /// limit would lock everyone out at once.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The offset from UTC in which pages show and read times (Cambodia: UTC+7, no daylight
    /// saving). Staff at a police station think in local time.
    pub local_offset: chrono::FixedOffset,
    /// An evidence upload whose body sends nothing for this long is abandoned, and nothing
    /// of it is kept.
    pub upload_idle_timeout: Duration,
    /// Connections served at once. Each holds a file descriptor: at the limit, the oldest
    /// idle connection is closed to make room, so silent clients cannot lock everyone out.
    pub max_connections: usize,
    /// A connection must send its request headers within this time (and a kept-alive one
    /// its next request), or it is closed.
    pub header_read_timeout: Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            behind_tls: false,
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            trusted_proxies: Vec::new(),
            local_offset: haven_store::clock::default_team_offset(),
            upload_idle_timeout: Duration::from_secs(60),
            max_connections: 1000,
            header_read_timeout: Duration::from_secs(15),
        }
    }
}

/// Shared, cheaply cloned application state. Holds no per-user state: sessions live in the
/// database, so any number of instances can serve the same users.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub hasher: PasswordHasher,
    pub config: Arc<WebConfig>,
    keyring: Option<Arc<Keyring>>,
    evidence: Option<Arc<haven_store::evidence::Locker>>,
    settings: Arc<RwLock<(Instant, Settings)>>,
}

/// Settings are re-read at most this often, so a change made on one instance reaches the
/// others within this time.
const SETTINGS_TTL: Duration = Duration::from_secs(30);

impl AppState {
    /// Today's date where the team works (the configured offset, Cambodia by default): a
    /// follow-up due today is not overdue until the day is over there, and forms start from
    /// this date. The one "today" of the web layer.
    pub fn team_today(&self) -> chrono::NaiveDate {
        haven_store::clock::local_date(haven_store::clock::now(), self.config.local_offset)
    }

    pub async fn new(
        db: Db,
        hasher: PasswordHasher,
        config: WebConfig,
    ) -> Result<AppState, StoreError> {
        let settings = haven_store::settings::load(&db).await?;
        haven_store::clock::set_team_offset(config.local_offset);
        Ok(AppState {
            db,
            hasher,
            config: Arc::new(config),
            keyring: None,
            evidence: None,
            settings: Arc::new(RwLock::new((Instant::now(), settings))),
        })
    }

    /// Adds the key file's keys; without them no survivor record can be read or written.
    pub fn with_keyring(mut self, keyring: Keyring) -> AppState {
        self.keyring = Some(Arc::new(keyring));
        self
    }

    /// The keys for survivor records. `serve` and `demo` always load them; a missing keyring
    /// is a start-up mistake, answered as an internal error.
    pub fn keyring(&self) -> Result<&Keyring, StoreError> {
        self.keyring.as_deref().ok_or_else(|| {
            StoreError::Internal("Haven was started without its key file".to_owned())
        })
    }

    /// Where evidence files are kept, and the largest upload accepted.
    pub fn with_evidence(mut self, locker: haven_store::evidence::Locker) -> AppState {
        self.evidence = Some(Arc::new(locker));
        self
    }

    /// The evidence locker; a missing one is a start-up mistake, answered as an internal error.
    pub fn evidence(&self) -> Result<&haven_store::evidence::Locker, StoreError> {
        self.evidence.as_deref().ok_or_else(|| {
            StoreError::Internal("Haven was started without an evidence folder".to_owned())
        })
    }

    /// The settings in force, refreshed from the database when stale.
    pub async fn settings(&self) -> Result<Settings, StoreError> {
        {
            let cached = self.settings.read().await;
            if cached.0.elapsed() < SETTINGS_TTL {
                return Ok(cached.1);
            }
        }
        let fresh = haven_store::settings::load(&self.db).await?;
        *self.settings.write().await = (Instant::now(), fresh);
        Ok(fresh)
    }
}
