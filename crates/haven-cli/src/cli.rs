//! The command line, declared with clap. Every subcommand has `--help`.

use crate::config::LogFormat;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "haven",
    version,
    about = "Haven: casework for anti-trafficking teams — investigations, crisis care, referrals, aftercare and prosecutions.",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log format: auto (pretty on a terminal, JSON otherwise), json or pretty.
    #[arg(long, env = "HAVEN_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,

    /// Log filter, e.g. `info` or `info,haven_store=debug`.
    #[arg(long, env = "HAVEN_LOG", global = true)]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web application and API (migrates the database first).
    Serve(ServeArgs),
    /// Start a throw-away instance filled with demo data, and print the demo logins.
    Demo(DemoArgs),
    /// Create the database if needed and apply pending migrations, then exit.
    Migrate(DbArgs),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage organisations (the own organisation and partner NGOs).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Print or check configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Create or rotate the key file that protects survivor records.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Measure Haven's own costs on this machine (password hashing, database round trips).
    Bench(BenchArgs),
}

/// Where the database is. Shared by every command that opens it.
#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB
    /// [default: sqlite://./haven-data/haven.db]
    #[arg(long, env = "HAVEN_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// Folder for Haven's files; the default SQLite database lives here as haven.db.
    #[arg(long, env = "HAVEN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// A TOML configuration file (see `haven config default`).
    #[arg(long, env = "HAVEN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "HAVEN_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<String>,

    /// The key file protecting survivor records [default: DATA_DIR/haven.key].
    #[arg(long, env = "HAVEN_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// Users reach Haven over HTTPS (directly or through a proxy): secure cookies and HSTS.
    #[arg(long, env = "HAVEN_BEHIND_TLS")]
    pub behind_tls: bool,

    /// Largest evidence file accepted, in MB (files are kept encrypted in DATA_DIR/evidence).
    #[arg(
        long,
        env = "HAVEN_EVIDENCE_MAX_MB",
        value_name = "MB",
        default_value_t = 8192
    )]
    pub evidence_max_mb: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "HAVEN_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<String>,

    /// Keep the demo database in this (empty) folder instead of a temporary one.
    #[arg(long, env = "HAVEN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Require two-step sign-in (TOTP) for admin, manager and legal as in production. Off by
    /// default so the demo can be explored with the printed password alone.
    #[arg(long)]
    pub require_totp: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff account.
    Add(UserAddArgs),
    /// List staff accounts.
    List(DbArgs),
    /// Disable an account: it can no longer sign in, and its sessions end at once.
    Disable(UsernameArgs),
    /// Enable a disabled account again.
    Enable(UsernameArgs),
    /// Set a new password for an account; its sessions end at once.
    ResetPassword(PasswordArgs),
    /// Remove an account's two-step sign-in (lost phone and recovery codes); its sessions
    /// end, and the person enrols again at the next sign-in.
    ResetTotp(UsernameArgs),
    /// Record the languages a staff member speaks (codes such as km,vi): the crisis-care
    /// roster checks that a girl who speaks only Vietnamese has Vietnamese-speaking staff.
    Languages(LanguagesArgs),
}

#[derive(Debug, Args)]
pub struct LanguagesArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account's username.
    pub username: String,
    /// Comma-separated language codes, e.g. km,vi (empty to clear).
    pub languages: String,
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Login name: letters a-z, digits, . _ - (3 to 64 characters).
    #[arg(long)]
    pub username: String,
    /// The name shown in Haven, in any script.
    #[arg(long)]
    pub name: String,
    /// Comma-separated roles: admin, investigator, aftercare, legal, manager, partner, auditor.
    #[arg(long, value_name = "ROLE,...")]
    pub roles: String,
    /// The organisation the person works for [default: the own organisation].
    #[arg(long, value_name = "NAME")]
    pub org: Option<String>,
    /// Language of the interface: en, km or vi.
    #[arg(long, default_value = "en", value_parser = ["en", "km", "vi"])]
    pub locale: String,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct UsernameArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account's username.
    pub username: String,
}

#[derive(Debug, Args)]
pub struct PasswordArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account's username.
    pub username: String,
    /// Read the new password from standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add an organisation.
    Add(OrgAddArgs),
    /// List organisations.
    List(DbArgs),
}

#[derive(Debug, Args)]
pub struct OrgAddArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The organisation's name.
    pub name: String,
    /// own (the organisation running Haven; only one) or partner.
    #[arg(long, default_value = "partner", value_parser = ["own", "partner"])]
    pub kind: String,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new key file (mode 0600). Back it up apart from the database: without it no
    /// survivor record can be read.
    Init(KeyFileArgs),
    /// Re-wrap every survivor's data key under a new master key, without touching the data.
    /// Run it while Haven is stopped; if interrupted, run it again and it carries on.
    Rotate(KeysRotateArgs),
}

#[derive(Debug, Args)]
pub struct KeyFileArgs {
    /// The key file [default: DATA_DIR/haven.key].
    #[arg(long, env = "HAVEN_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Folder for Haven's files.
    #[arg(long, env = "HAVEN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeysRotateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The key file to rotate [default: DATA_DIR/haven.key].
    #[arg(long, env = "HAVEN_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-check the whole hash chain of the audit log; exits 1 naming the first edited,
    /// removed or reordered event.
    Verify(DbArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented default configuration file.
    Default,
    /// Check a configuration file and report the first problem.
    Check {
        /// The TOML file to check.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// How many samples of each measurement to take.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub samples: u32,

    /// Skip the crisis-care and case-management figures, which first fill databases with
    /// 100,000 survivors each (2,000,000 care-log entries; 1,000,000 services).
    #[arg(long)]
    pub skip_crisis: bool,
    /// Only the legal figures (evidence upload, court bundle, hearings calendar).
    #[arg(long)]
    pub legal_only: bool,
    /// Only the case-management figures (caseload, team overdue list, a survivor's whole
    /// file), on 100,000 survivors, 1,000,000 services and 500,000 follow-ups.
    #[arg(long)]
    pub casework_only: bool,
}
