//! The command line: every option is also an environment variable
//! (`VEXIL_*`), and secrets never show up in `Debug` output or logs.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Vexil: feature flags with local evaluation, streamed to SDKs.
#[derive(Debug, Parser)]
#[command(name = "vexil", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// `text` for people at a terminal, `json` for log collectors.
    #[arg(long, env = "VEXIL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// The `vexil` subcommands.
#[derive(Debug, Subcommand)]
// Parsed once at start-up and moved into its runner: the size of `Serve`
// costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run the control plane: REST API, UI, SDK streams.
    Serve(ServeConfig),
    /// Manage accounts from the shell (the first admin, a lost password).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Apply the storage migrations and exit (`serve` also applies them).
    Migrate(StorageConfig),
}

/// `vexil admin ...`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin user (the first login of a fresh install).
    Create(AdminCreate),
}

/// `vexil admin create`: an admin account made without the API, since the API
/// needs an account to log in with.
#[derive(Debug, Args)]
pub struct AdminCreate {
    /// The login name.
    #[arg(long, env = "VEXIL_ADMIN_USERNAME")]
    pub username: String,
    /// The password; only its hash is stored.
    #[arg(long, env = "VEXIL_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: Secret,
    /// Where the account is stored.
    #[command(flatten)]
    pub storage: StorageConfig,
}

/// Where flags, accounts and the change log are stored. Shared by every
/// subcommand that touches storage so they all find the same data.
#[derive(Debug, Clone, Args)]
pub struct StorageConfig {
    /// Directory of the embedded SQLite database, used when no
    /// `--database-url` is given, so a single `vexil serve` needs nothing else.
    #[arg(long, env = "VEXIL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// `postgres://…` for production (any number of replicas share one
    /// database) or `sqlite://…`; the backend is chosen from the scheme.
    /// Migrations run on start; the value is never logged (it may hold a
    /// password).
    #[arg(long, env = "VEXIL_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretUrl>,
}

/// `vexil serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address for the API, the UI and SDK streams. Loopback by default so a
    /// fresh install is not exposed before it has an admin password.
    #[arg(long, env = "VEXIL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where data lives.
    #[command(flatten)]
    pub storage: StorageConfig,
    /// `redis://…`: the doorbell that tells other replicas a change was
    /// committed. Without it a single replica notifies itself in-process.
    #[arg(long, env = "VEXIL_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<SecretUrl>,
    /// On the first start of an empty database, create an admin with this
    /// name (with `--admin-password`). Ignored once any user exists.
    #[arg(long, env = "VEXIL_ADMIN_USERNAME")]
    pub admin_username: Option<String>,
    /// The first admin's password (at least 12 characters); only its hash is
    /// stored.
    #[arg(long, env = "VEXIL_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,
    /// How often, in milliseconds, this replica reads every environment's
    /// version to pick up changes other replicas committed (its own writes
    /// apply at once). A lower value spreads changes faster and costs one
    /// small query per interval.
    #[arg(long, env = "VEXIL_POLL_INTERVAL_MS", default_value_t = 3000,
        value_parser = clap::value_parser!(u64).range(10..))]
    pub poll_interval_ms: u64,
    /// How often, in milliseconds, this replica writes the evaluation
    /// counts SDKs reported (`POST /api/v1/usage`) to the database; they
    /// are summed in memory in between, and written once more on shutdown.
    #[arg(long, env = "VEXIL_USAGE_FLUSH_INTERVAL_MS", default_value_t = 5000,
        value_parser = clap::value_parser!(u64).range(10..))]
    pub usage_flush_interval_ms: u64,
    /// The SDK streams' limits and timings: not on the command line (the
    /// defaults follow the protocol); programs that embed the server and
    /// tests set them.
    #[arg(skip)]
    pub stream: crate::stream::StreamConfig,
    /// The rollout advancer's tick and clock: not on the command line;
    /// tests set them.
    #[arg(skip)]
    pub rollout: crate::rollout::RolloutConfig,
}

impl ServeConfig {
    /// The defaults, as `vexil serve` with no flags and no environment.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            storage: StorageConfig {
                data_dir: data_dir.into(),
                database_url: None,
            },
            redis_url: None,
            admin_username: None,
            admin_password: None,
            poll_interval_ms: 3000,
            usage_flush_interval_ms: 5000,
            stream: crate::stream::StreamConfig::default(),
            rollout: crate::rollout::RolloutConfig::default(),
        }
    }

    /// [`ServeConfig::poll_interval_ms`] as a duration.
    pub fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.poll_interval_ms)
    }

    /// [`ServeConfig::usage_flush_interval_ms`] as a duration.
    pub fn usage_flush_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.usage_flush_interval_ms)
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A secret such as a password: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for Secret {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(Secret(s.to_owned()))
    }
}

/// A connection URL that may carry a password (`postgres://user:pw@host/db`):
/// `Debug` and `Display` show it with the password replaced by `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// The full URL, for the driver that connects with it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`, safe to log.
    pub fn redacted(&self) -> String {
        let url = &self.0;
        let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
            return url.clone();
        };
        let authority_end = url[scheme_end..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| scheme_end + i);
        let authority = &url[scheme_end..authority_end];
        let Some(at) = authority.rfind('@') else {
            return url.clone();
        };
        let Some(colon) = authority[..at].find(':') else {
            return url.clone();
        };
        format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &authority[..colon],
            &url[scheme_end + at..]
        )
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for SecretUrl {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(SecretUrl(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_defaults_to_loopback_and_the_embedded_store() {
        let cli = Cli::try_parse_from(["vexil", "serve"]).unwrap();
        let Command::Serve(config) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.storage.data_dir, PathBuf::from("./data"));
        assert!(config.storage.database_url.is_none());
        assert_eq!(
            config.poll_interval(),
            crate::snapshots::DEFAULT_POLL_INTERVAL
        );
        assert_eq!(
            ServeConfig::new("./data").poll_interval_ms,
            config.poll_interval_ms
        );
        assert_eq!(
            config.usage_flush_interval(),
            crate::usage::DEFAULT_FLUSH_INTERVAL
        );
        assert_eq!(
            ServeConfig::new("./data").usage_flush_interval_ms,
            config.usage_flush_interval_ms
        );
    }

    #[test]
    fn passwords_never_reach_debug_output() {
        let cli = Cli::try_parse_from([
            "vexil",
            "serve",
            "--database-url",
            "postgres://vexil:hunter2@db.internal:5432/vexil?sslmode=require",
            "--redis-url",
            "redis://:s3cret@cache:6379/0",
        ])
        .unwrap();
        let debug = format!("{cli:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("s3cret"),
            "{debug}"
        );
        assert!(
            debug.contains("postgres://vexil:***@db.internal:5432/vexil?sslmode=require"),
            "{debug}"
        );
        assert!(debug.contains("redis://:***@cache:6379/0"), "{debug}");

        let admin = Cli::try_parse_from([
            "vexil",
            "admin",
            "create",
            "--username",
            "ada",
            "--password",
            "pw-123",
        ])
        .unwrap();
        assert!(!format!("{admin:?}").contains("pw-123"));
    }

    #[test]
    fn urls_without_passwords_are_shown_whole() {
        for url in [
            "sqlite://data/vexil.db",
            "postgres://postgres@127.0.0.1/test",
            "redis://127.0.0.1:6379",
            "not a url",
        ] {
            assert_eq!(url.parse::<SecretUrl>().unwrap().redacted(), url);
        }
        let at_in_path = "postgres://u:p@h/db@x".parse::<SecretUrl>().unwrap();
        assert_eq!(at_in_path.redacted(), "postgres://u:***@h/db@x");
    }
}
