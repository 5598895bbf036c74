//! Command line and environment configuration, and the token secret file.

use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use trustcap_protocol::TokenKey;

use crate::domain::random_bytes;

/// The TrustCap verifier.
#[derive(Debug, Parser)]
#[command(name = "trustcap-verifier", version, about)]
pub struct Cli {
    /// Database URL (SQLite for now).
    #[arg(long, global = true, env = "TRUSTCAP_DATABASE_URL", default_value = "sqlite://trustcap.db")]
    pub database: String,
    /// File holding the 32-byte secret that authenticates client tokens; created (mode 0600)
    /// if missing.
    #[arg(long, global = true, env = "TRUSTCAP_SECRET_FILE", default_value = "trustcap-secret.key")]
    pub secret_file: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the HTTP service (applies pending migrations first).
    Serve(ServeArgs),
    /// Applies pending database migrations and exits.
    Migrate,
    /// Creates a tenant and prints its id.
    CreateTenant {
        /// Display name of the tenant.
        #[arg(long)]
        name: String,
    },
    /// Creates an API key for a tenant and prints it (it is shown only this once).
    CreateApiKey {
        /// The tenant id (`ten_...`).
        #[arg(long)]
        tenant: String,
    },
}

/// Settings of the HTTP service.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Lifetime of client tokens and sessions, in seconds.
    #[arg(long, default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..=7 * 24 * 3600))]
    pub token_ttl_secs: u64,
    /// Lifetime of upload nonces, in seconds.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=24 * 3600))]
    pub nonce_ttl_secs: u64,
    /// Largest capture upload accepted, in bytes.
    #[arg(long, default_value_t = 20 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=1024 * 1024 * 1024))]
    pub max_body_bytes: u64,
    /// Longest time one request may take, body upload included, in seconds (408 after).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_secs: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token_ttl_secs: 1800,
            nonce_ttl_secs: 600,
            max_body_bytes: 20 * 1024 * 1024,
            request_timeout_secs: 60,
        }
    }
}

/// Reads the token secret from `path`, creating it with 32 fresh random bytes and mode
/// 0600 if it does not exist. A file of any other length is an error.
pub fn load_or_create_secret(path: &Path) -> io::Result<TokenKey> {
    match create_secret(path) {
        Ok(key) => Ok(key),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_secret(path),
        Err(e) => Err(e),
    }
}

fn create_secret(path: &Path) -> io::Result<TokenKey> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let secret: [u8; 32] = random_bytes();
    file.write_all(&secret)?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "created a new token secret");
    Ok(TokenKey::new(secret))
}

fn read_secret(path: &Path) -> io::Result<TokenKey> {
    let file = std::fs::File::open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format_args!("{mode:o}"), "token secret file is readable by others");
        }
    }
    let mut bytes = Vec::with_capacity(33);
    (&file).take(33).read_to_end(&mut bytes)?;
    let secret: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{} must hold exactly 32 bytes", path.display()))
    })?;
    Ok(TokenKey::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["x", "serve", "--bind", "127.0.0.1:0"]).unwrap();
        match cli.command {
            Command::Serve(args) => {
                assert_eq!(args.bind.port(), 0);
                assert_eq!(args.token_ttl_secs, ServeArgs::default().token_ttl_secs);
                assert_eq!(args.max_body_bytes, ServeArgs::default().max_body_bytes);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secret_file_is_created_once() {
        let dir = std::env::temp_dir().join(format!("trustcap-secret-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret.key");
        let _ = std::fs::remove_file(&path);
        load_or_create_secret(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        load_or_create_secret(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        std::fs::write(&path, b"short").unwrap();
        assert!(load_or_create_secret(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
