//! Configuration: flags over `HAVEN_*` environment variables over an optional TOML file over
//! defaults. Unknown keys and bad values are refused with the key's name.

use anyhow::{bail, Context, Result};
use haven_store::DatabaseUrl;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./haven-data/haven.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The commented default configuration printed by `haven config default`.
pub const DEFAULT_TOML: &str = r#"# Haven configuration. Every key is optional; flags and HAVEN_* environment variables
# override what is written here.

# Where the data lives. sqlite://PATH for one machine (the file must exist: create it with
# `haven migrate`), or postgres://USER:PASSWORD@HOST:5432/DATABASE for larger teams.
# Env: HAVEN_DATABASE_URL (or HAVEN_DATABASE_URL_FILE to read it from a file).
database_url = "sqlite://./haven-data/haven.db"

# Address and port to listen on. Keep 127.0.0.1 behind a reverse proxy that terminates TLS.
# Env: HAVEN_LISTEN
listen = "127.0.0.1:8080"

# Folder for Haven's files (the SQLite database by default, keys, exports).
# Env: HAVEN_DATA_DIR
data_dir = "./haven-data"

# The key file protecting survivor records (create it with `haven keys init`; mode 0600).
# Back it up apart from the database. Env: HAVEN_KEY_FILE
key_file = "./haven-data/haven.key"

# Set to true when users reach Haven over HTTPS: cookies become Secure and HSTS is sent.
# Env: HAVEN_BEHIND_TLS
behind_tls = false
# Minutes east of UTC in which pages show and read times (420 = Cambodia, UTC+7).
utc_offset_minutes = 420

[database]
# Connections kept in the pool. SQLite is capped at 16; PostgreSQL: about 2 x CPU cores of the
# database server, divided among Haven instances.
max_connections = 10

[http]
# Largest request body accepted, in bytes.
body_limit_bytes = 1048576
# Requests taking longer are answered 408 and abandoned.
request_timeout_seconds = 30
# An evidence upload that sends nothing for this long is abandoned and nothing of it is kept.
upload_idle_timeout_seconds = 60
# Addresses of reverse proxies or load balancers whose X-Forwarded-For header is believed, so
# sign-in throttling and the session list see each client's own address. Leave empty when
# clients connect directly.
trusted_proxies = []
# A client must send its request headers within this many seconds (and a kept-alive
# connection its next request), or the connection is closed.
header_read_timeout_seconds = 15
# Connections served at once; each holds an open file. At the limit the oldest idle
# connection is closed to make room; when all are busy, 32 more connections are still
# answered for /healthz and /readyz (anything else gets 503, try again). Haven raises its
# open-file limit to fit, or lowers this with a warning when the system does not allow it.
max_connections = 1000

[log]
# auto (pretty on a terminal, JSON otherwise), json or pretty.
format = "auto"
# error, warn, info, debug or trace; or a filter such as "info,haven_store=debug".
# Env: HAVEN_LOG
level = "info"
"#;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub behind_tls: Option<bool>,
    /// Minutes east of UTC in which pages show and read times (default 420: Cambodia).
    pub utc_offset_minutes: Option<i32>,
    #[serde(default)]
    pub database: DatabaseSection,
    #[serde(default)]
    pub http: HttpSection,
    #[serde(default)]
    pub log: LogSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    pub max_connections: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    pub body_limit_bytes: Option<usize>,
    pub request_timeout_seconds: Option<u64>,
    pub upload_idle_timeout_seconds: Option<u64>,
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    pub header_read_timeout_seconds: Option<u64>,
    pub max_connections: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    pub format: Option<LogFormat>,
    pub level: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Auto,
    Json,
    Pretty,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        let config: FileConfig = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message().trim()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value that can be checked without connecting anywhere.
    pub fn validate(&self) -> Result<()> {
        if let Some(url) = &self.database_url {
            DatabaseUrl::parse(url).map_err(|e| anyhow::anyhow!("database_url: {e}"))?;
        }
        if let Some(listen) = &self.listen {
            parse_listen(listen).context("listen")?;
        }
        if let Some(n) = self.database.max_connections {
            if !(1..=1000).contains(&n) {
                bail!("database.max_connections must be between 1 and 1000, not {n}");
            }
        }
        if let Some(n) = self.http.body_limit_bytes {
            if !(1024..=1024 * 1024 * 1024).contains(&n) {
                bail!("http.body_limit_bytes must be between 1024 and 1073741824, not {n}");
            }
        }
        if let Some(n) = self.http.request_timeout_seconds {
            if !(1..=3600).contains(&n) {
                bail!("http.request_timeout_seconds must be between 1 and 3600, not {n}");
            }
        }
        if let Some(n) = self.http.upload_idle_timeout_seconds {
            if !(1..=3600).contains(&n) {
                bail!("http.upload_idle_timeout_seconds must be between 1 and 3600, not {n}");
            }
        }
        if let Some(n) = self.http.header_read_timeout_seconds {
            if !(1..=300).contains(&n) {
                bail!("http.header_read_timeout_seconds must be between 1 and 300, not {n}");
            }
        }
        if let Some(n) = self.http.max_connections {
            if !(10..=1_000_000).contains(&n) {
                bail!("http.max_connections must be between 10 and 1000000, not {n}");
            }
        }
        if let Some(m) = self.utc_offset_minutes {
            if !(-720..=840).contains(&m) {
                bail!(
                    "utc_offset_minutes must be between -720 and 840 (UTC-12 to UTC+14), not {m}"
                );
            }
        }
        if let Some(level) = &self.log.level {
            tracing_subscriber::EnvFilter::try_new(level)
                .map_err(|e| anyhow::anyhow!("log.level '{level}' is not a valid filter: {e}"))?;
        }
        Ok(())
    }
}

pub fn parse_listen(value: &str) -> Result<SocketAddr> {
    value.trim().parse().map_err(|_| {
        anyhow::anyhow!("'{value}' is not an address and port such as 127.0.0.1:8080 or [::1]:8080")
    })
}

/// The database URL in force: flag or env, else `HAVEN_DATABASE_URL_FILE`, else the file,
/// else a SQLite file in the data folder.
pub fn database_url(
    flag: Option<&str>,
    file: &FileConfig,
    data_dir: Option<&Path>,
) -> Result<DatabaseUrl> {
    let from_secret_file = match std::env::var_os("HAVEN_DATABASE_URL_FILE") {
        Some(path) if flag.is_none() => Some(
            std::fs::read_to_string(&path)
                .with_context(|| {
                    format!(
                        "cannot read HAVEN_DATABASE_URL_FILE {}",
                        Path::new(&path).display()
                    )
                })?
                .trim()
                .to_owned(),
        ),
        _ => None,
    };
    let raw = flag
        .map(str::to_owned)
        .or(from_secret_file)
        .or_else(|| file.database_url.clone())
        .or_else(|| data_dir.map(|d| format!("sqlite://{}", d.join("haven.db").display())))
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    DatabaseUrl::parse(&raw).map_err(|e| anyhow::anyhow!("--database-url: {e}"))
}

/// The key file in force: flag or env, else the file's `key_file`, else `DATA_DIR/haven.key`.
pub fn key_file(flag: Option<&Path>, file: &FileConfig, data_dir: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| file.key_file.clone())
        .unwrap_or_else(|| {
            data_dir
                .unwrap_or(Path::new("./haven-data"))
                .join("haven.key")
        })
}

/// HTTP settings from the file, with defaults.
pub fn web_config(file: &FileConfig, behind_tls_flag: bool) -> haven_web::WebConfig {
    let defaults = haven_web::WebConfig::default();
    haven_web::WebConfig {
        behind_tls: behind_tls_flag || file.behind_tls.unwrap_or(false),
        body_limit: file.http.body_limit_bytes.unwrap_or(defaults.body_limit),
        request_timeout: file
            .http
            .request_timeout_seconds
            .map(Duration::from_secs)
            .unwrap_or(defaults.request_timeout),
        trusted_proxies: file.http.trusted_proxies.clone().unwrap_or_default(),
        local_offset: file
            .utc_offset_minutes
            .and_then(|m| chrono::FixedOffset::east_opt(m.saturating_mul(60)))
            .unwrap_or(defaults.local_offset),
        upload_idle_timeout: file
            .http
            .upload_idle_timeout_seconds
            .map(Duration::from_secs)
            .unwrap_or(defaults.upload_idle_timeout),
        max_connections: file
            .http
            .max_connections
            .unwrap_or(defaults.max_connections),
        header_read_timeout: file
            .http
            .header_read_timeout_seconds
            .map(Duration::from_secs)
            .unwrap_or(defaults.header_read_timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_default_config_is_valid() {
        let config: FileConfig = toml::from_str(DEFAULT_TOML).unwrap();
        config.validate().unwrap();
        assert_eq!(config.listen.as_deref(), Some(DEFAULT_LISTEN));
        assert_eq!(config.database_url.as_deref(), Some(DEFAULT_DATABASE_URL));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = toml::from_str::<FileConfig>("listn = \"x\"").unwrap_err();
        assert!(err.to_string().contains("listn"), "{err}");
    }

    #[test]
    fn bad_values_are_named_with_what_is_accepted() {
        let config: FileConfig = toml::from_str("[http]\nrequest_timeout_seconds = 0").unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains("http.request_timeout_seconds must be between 1 and 3600"),
            "{err}"
        );
        let config: FileConfig = toml::from_str("listen = \"localhost\"").unwrap();
        let err = format!("{:#}", config.validate().unwrap_err());
        assert!(
            err.contains("listen") && err.contains("127.0.0.1:8080"),
            "{err}"
        );
        let err = toml::from_str::<FileConfig>("[log]\nformat = \"xml\"").unwrap_err();
        assert!(
            err.to_string().contains("auto") && err.to_string().contains("json"),
            "{err}"
        );
    }

    #[test]
    fn connection_limits_come_from_the_http_section() {
        let file: FileConfig =
            toml::from_str("[http]\nmax_connections = 50\nheader_read_timeout_seconds = 4")
                .unwrap();
        file.validate().unwrap();
        let web = web_config(&file, false);
        assert_eq!(web.max_connections, 50);
        assert_eq!(web.header_read_timeout, Duration::from_secs(4));
        let config: FileConfig = toml::from_str("[http]\nmax_connections = 0").unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains("http.max_connections must be between"),
            "{err}"
        );
        let config: FileConfig = toml::from_str("[http]\nheader_read_timeout_seconds = 0").unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("http.header_read_timeout_seconds"), "{err}");
    }

    #[test]
    fn flags_beat_the_file_and_the_data_dir() {
        let file: FileConfig = toml::from_str("database_url = \"sqlite://file.db\"").unwrap();
        let url = database_url(Some("sqlite://flag.db"), &file, None).unwrap();
        assert_eq!(url.expose(), "sqlite://flag.db");
        let url = database_url(None, &file, Some(Path::new("/data"))).unwrap();
        assert_eq!(url.expose(), "sqlite://file.db");
        let url = database_url(None, &FileConfig::default(), Some(Path::new("/data"))).unwrap();
        assert_eq!(url.expose(), "sqlite:///data/haven.db");
    }
}
