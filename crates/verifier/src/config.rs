//! Command line and environment configuration, and the token secret file.

use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use hmac::Mac as _;
use trustcap_protocol::TokenKey;

use crate::domain::random_bytes;

/// The TrustCap verifier.
///
/// Every option can also be set by its environment variable or in a configuration file
/// of `TRUSTCAP_NAME = value` lines named by `--config FILE` or `TRUSTCAP_CONFIG`.
#[derive(Debug, Parser)]
#[command(name = "trustcap-verifier", version, about)]
pub struct Cli {
    /// Database URL: `sqlite://file.db` or `postgres://user@host/db`.
    #[arg(long, global = true, env = "TRUSTCAP_DATABASE_URL", default_value = "sqlite://trustcap.db")]
    pub database: String,
    /// File holding the 32-byte service secret (client tokens; the keys that encrypt
    /// webhook secrets and seal the audit trail are derived from it); created (mode 0600) if missing.
    #[arg(long, global = true, env = "TRUSTCAP_SECRET_FILE", default_value = "trustcap-secret.key")]
    pub secret_file: PathBuf,
    /// Key-encryption keys that wrap each session's data key (encryption at rest):
    /// `id:base64key[,id:base64key...]`, newest first (it wraps; the others still unwrap),
    /// each key 32 random bytes. Unset: a development KEK derived from the service secret.
    #[arg(long, global = true, env = "TRUSTCAP_KEK", hide_env_values = true)]
    pub kek: Option<String>,
    /// Refuse to start without `TRUSTCAP_KEK` (set it in production).
    #[arg(long, global = true, env = "TRUSTCAP_REQUIRE_KEK", default_value_t = false, action = clap::ArgAction::Set)]
    pub require_kek: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once at startup: the size of the `Serve` variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
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
    /// Imports a new version of the screening lists from a folder, records it (running servers
    /// switch to it before their next screening) and re-screens the approved applicants of
    /// tenants that opted in to monitoring; prints a JSON summary.
    UpdateLists {
        /// The folder of lists (one subfolder per list).
        #[arg(long)]
        dir: PathBuf,
    },
    /// Creates a review-console account for a tenant and prints its id. The password is read
    /// from `TRUSTCAP_REVIEWER_PASSWORD` if set, else from the first line of standard input.
    AddReviewer {
        /// The tenant id (`ten_...`).
        #[arg(long)]
        tenant: String,
        /// The reviewer's email address (the login name; unique across tenants).
        #[arg(long)]
        email: String,
        /// `reviewer` (works the queue) or `admin` (also changes the console settings).
        #[arg(long, default_value = "reviewer")]
        role: String,
    },
    /// Re-wraps every session's data key under the newest KEK of `TRUSTCAP_KEK` (the data is
    /// not re-encrypted), in batches; idempotent. Afterwards the older KEKs can be removed
    /// from the configuration. Prints a JSON summary.
    RotateKek {
        /// Data keys re-wrapped per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        batch: i64,
    },
    /// Checks the hash chains of the audit trail (every tenant's, or `--tenant`'s) and says
    /// where an entry was edited, inserted or deleted; prints a JSON report and exits with
    /// status 1 if anything is wrong.
    VerifyAudit {
        /// Only this tenant's chain (`ten_...`).
        #[arg(long)]
        tenant: Option<String>,
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
    /// Where image bytes go: `file:///dir`, `s3://bucket/prefix` (credentials from `AWS_*`)
    /// or `database`. Default: a directory beside a SQLite file, else the database.
    #[arg(long, env = "TRUSTCAP_IMAGE_STORE")]
    pub image_store: Option<String>,
    /// Pipeline workers in this process (0: accept uploads only, another process decides).
    #[arg(long, env = "TRUSTCAP_WORKERS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=64))]
    pub workers: u64,
    /// How often idle workers look for jobs and webhook deliveries, in milliseconds.
    #[arg(long, env = "TRUSTCAP_POLL_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub poll_ms: u64,
    /// How long a claimed job stays reserved for its worker, in seconds (a crashed worker's
    /// jobs are taken over after this).
    #[arg(long, env = "TRUSTCAP_JOB_LEASE_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub job_lease_secs: u64,
    /// Longest time one webhook attempt may take, in seconds.
    #[arg(long, env = "TRUSTCAP_WEBHOOK_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub webhook_timeout_secs: u64,
    /// How long the previous webhook secret keeps signing after a rotation, in seconds.
    #[arg(long, env = "TRUSTCAP_WEBHOOK_ROTATION_SECS", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(0..=30 * 86_400))]
    pub webhook_rotation_secs: u64,
    /// Accept `http://` webhook endpoints (default: `https://` only).
    #[arg(long, env = "TRUSTCAP_WEBHOOKS_ALLOW_HTTP", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhooks_allow_http: bool,
    /// Let webhooks reach loopback, private, link-local and other reserved addresses (local
    /// receivers and tests only; default: blocked, which stops SSRF to internal services).
    #[arg(long, env = "TRUSTCAP_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhooks_allow_private_networks: bool,
    /// Serve Prometheus metrics at `/metrics`.
    #[arg(long, env = "TRUSTCAP_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,
    /// Folder of the face and OCR models (default: `trustcap_vision::model_cache::default_model_dir()`,
    /// i.e. `~/.cache/trustcap/models`). Missing models send the sessions that need them to review.
    #[arg(long, env = "TRUSTCAP_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// Folder of sanctions and PEP lists (one subfolder per list: `ofac_sdn_2021/`, `un/`,
    /// `ftm_entities/`, ...). `update-lists` records newer sets; without any, no screening.
    #[arg(long, env = "TRUSTCAP_SCREENING_LISTS")]
    pub screening_lists: Option<PathBuf>,
    /// The checks to run, comma-separated, from `capture_quality`, `capture_integrity`,
    /// `face_match`, `screening`, `document`, `address` (default: all of them).
    #[arg(long, env = "TRUSTCAP_CHECKS", value_delimiter = ',')]
    pub checks: Option<Vec<String>>,
    /// The verifier's public base URL, e.g. `https://verify.example.com`: the `iss` of the
    /// credentials it issues (default: `http://` and the bind address).
    #[arg(long, env = "TRUSTCAP_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl ServeArgs {
    /// The webhook URL and address policy these settings choose.
    pub fn webhook_policy(&self) -> crate::webhook::ssrf::UrlPolicy {
        crate::webhook::ssrf::UrlPolicy {
            allow_http: self.webhooks_allow_http,
            allow_private_networks: self.webhooks_allow_private_networks,
        }
    }
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token_ttl_secs: 1800,
            nonce_ttl_secs: 600,
            max_body_bytes: 20 * 1024 * 1024,
            request_timeout_secs: 60,
            image_store: None,
            workers: 2,
            poll_ms: 250,
            job_lease_secs: 120,
            webhook_timeout_secs: 10,
            webhook_rotation_secs: 86_400,
            webhooks_allow_http: false,
            webhooks_allow_private_networks: false,
            metrics: true,
            model_dir: None,
            screening_lists: None,
            checks: None,
            public_url: None,
        }
    }
}

/// The service secret: 32 random bytes from the secret file. Client tokens are
/// authenticated with it directly; the key that encrypts webhook secrets at rest is
/// derived from it (HMAC-SHA256 with a fixed label), so one file holds all key material.
#[derive(Clone)]
pub struct ServiceSecret([u8; 32]);

impl std::fmt::Debug for ServiceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceSecret(..)")
    }
}

impl ServiceSecret {
    /// Wraps 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The client-token key.
    pub fn token_key(&self) -> TokenKey {
        TokenKey::new(self.0)
    }

    /// The key that encrypts webhook secrets.
    pub fn webhook_encryption_key(&self) -> [u8; 32] {
        self.derive(b"trustcap/webhook-secret-encryption/v1")
    }

    /// The key that seals the audit trail.
    pub fn audit_key(&self) -> crate::audit::AuditKey {
        crate::audit::AuditKey::new(self.derive(b"trustcap/audit-chain/v1"))
    }

    /// The seed of the Ed25519 key that signs reusable credentials (one issuer per deployment).
    pub fn credential_seed(&self) -> [u8; 32] {
        self.derive(b"trustcap/credential-issuer/v1")
    }

    /// The key-encryption keys `--kek` / `TRUSTCAP_KEK` names or, without them (and unless
    /// `require` is set), the development KEK derived from this secret.
    pub fn keyring(&self, kek: Option<&str>, require: bool) -> Result<crate::vault::KeyRing, crate::vault::VaultError> {
        match kek.map(str::trim).filter(|k| !k.is_empty()) {
            Some(text) => crate::vault::KeyRing::parse(text),
            None if require => {
                Err(crate::vault::VaultError::Config("TRUSTCAP_REQUIRE_KEK is set but TRUSTCAP_KEK is not".into()))
            }
            None => {
                tracing::warn!(
                    "TRUSTCAP_KEK is not set: data keys are wrapped under a KEK derived from the service secret (development only)"
                );
                Ok(crate::vault::KeyRing::derived_from(self))
            }
        }
    }

    /// A key for one purpose (`label`), derived as by [`ServiceSecret::audit_key`].
    pub(crate) fn derive_key(&self, label: &[u8]) -> [u8; 32] {
        self.derive(label)
    }

    /// A key for one purpose: HMAC-SHA256 of the purpose's label under the secret.
    fn derive(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(label);
        mac.finalize().into_bytes().into()
    }
}

/// Reads the token secret from `path`, creating it with 32 fresh random bytes and mode
/// 0600 if it does not exist. A file of any other length is an error.
pub fn load_or_create_secret(path: &Path) -> io::Result<ServiceSecret> {
    match create_secret(path) {
        Ok(key) => Ok(key),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_secret(path),
        Err(e) => Err(e),
    }
}

fn create_secret(path: &Path) -> io::Result<ServiceSecret> {
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
    tracing::info!(path = %path.display(), "created a new service secret");
    Ok(ServiceSecret(secret))
}

fn read_secret(path: &Path) -> io::Result<ServiceSecret> {
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
    Ok(ServiceSecret(secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["x", "serve", "--checks", "capture_quality,document"]).unwrap();
        match cli.command {
            Command::Serve(args) => assert_eq!(args.checks.unwrap(), ["capture_quality", "document"]),
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from(["x", "serve", "--bind", "127.0.0.1:0"]).unwrap();
        match cli.command {
            Command::Serve(args) => {
                assert_eq!(args.bind.port(), 0);
                assert_eq!(args.token_ttl_secs, ServeArgs::default().token_ttl_secs);
                assert_eq!(args.max_body_bytes, ServeArgs::default().max_body_bytes);
                assert_eq!(args.checks, None);
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

/// The environment variable that names a configuration file (also `--config FILE`).
pub const CONFIG_ENV: &str = "TRUSTCAP_CONFIG";

/// Parses a configuration file: `TRUSTCAP_NAME = value` lines (the names of the
/// environment variables the options read), `#` comments and blank lines.
pub fn parse_config_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').ok_or_else(|| format!("line {}: expected NAME = value", n + 1))?;
        let (key, value) = (key.trim(), value.trim().trim_matches('"'));
        if !key.starts_with("TRUSTCAP_")
            || !key.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!("line {}: {key:?} is not a TRUSTCAP_ option name", n + 1));
        }
        out.push((key.to_owned(), value.to_owned()));
    }
    Ok(out)
}

/// Sets the default of every argument of `cmd` (not of its subcommands) whose
/// environment variable appears in `values`; records the names used in `known`.
fn file_defaults(cmd: clap::Command, values: &[(String, String)], known: &mut Vec<String>) -> clap::Command {
    let ids: Vec<(String, String)> =
        cmd.get_arguments().filter_map(|a| Some((a.get_id().to_string(), a.get_env()?.to_str()?.to_owned()))).collect();
    let mut cmd = cmd;
    for (id, env) in ids {
        if let Some((_, value)) = values.iter().find(|(k, _)| *k == env) {
            known.push(env.clone());
            // Leaked once per option at start-up: clap keeps defaults for the process.
            let value: &'static str = Box::leak(value.clone().into_boxed_str());
            cmd = cmd.mut_arg(id, |a| a.default_value(value));
        }
    }
    cmd
}

fn with_file_defaults(cmd: clap::Command, values: &[(String, String)]) -> Result<clap::Command, String> {
    let mut known = Vec::new();
    let mut cmd = file_defaults(cmd, values, &mut known);
    let subcommands: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_owned()).collect();
    for name in subcommands {
        cmd = cmd.mut_subcommand(name, |sub| file_defaults(sub, values, &mut known));
    }
    if let Some((unknown, _)) = values.iter().find(|(k, _)| !known.contains(k)) {
        return Err(format!("unknown option {unknown} in the configuration file"));
    }
    Ok(cmd)
}

impl Cli {
    /// Parses the command line, with defaults from the configuration file named by
    /// `--config FILE` or `TRUSTCAP_CONFIG`. Precedence: flags, then environment, then the
    /// file, then built-in defaults.
    pub fn parse_with_config() -> Result<Self, String> {
        use clap::{CommandFactory as _, FromArgMatches as _};
        let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let mut path = std::env::var_os(CONFIG_ENV).map(PathBuf::from);
        if let Some(i) = args.iter().position(|a| a == "--config") {
            if i + 1 >= args.len() {
                return Err("--config needs a file".into());
            }
            path = Some(PathBuf::from(args.remove(i + 1)));
            args.remove(i);
        }
        let mut cmd = Cli::command();
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let values = parse_config_file(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            cmd = with_file_defaults(cmd, &values)?;
        }
        // Help, version and usage errors print and exit as clap does.
        let matches = cmd.try_get_matches_from(args).unwrap_or_else(|e| e.exit());
        Cli::from_arg_matches(&matches).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;
    use clap::{CommandFactory as _, FromArgMatches as _};

    #[test]
    fn file_values_are_defaults_under_flags() {
        let values = parse_config_file(
            "# verifier\nTRUSTCAP_DATABASE_URL = \"sqlite://file.db\"\n\nTRUSTCAP_WORKERS=5\nTRUSTCAP_POLL_MS = 40\n",
        )
        .unwrap();
        let cmd = with_file_defaults(Cli::command(), &values).unwrap();
        let m = cmd.clone().try_get_matches_from(["x", "serve", "--poll-ms", "70"]).unwrap();
        let cli = Cli::from_arg_matches(&m).unwrap();
        assert_eq!(cli.database, "sqlite://file.db");
        match cli.command {
            Command::Serve(args) => assert_eq!((args.workers, args.poll_ms), (5, 70)),
            other => panic!("{other:?}"),
        }
        assert!(parse_config_file("nonsense").is_err());
        assert!(parse_config_file("PATH=/bin").is_err());
        let unknown = parse_config_file("TRUSTCAP_NOPE=1").unwrap();
        assert!(with_file_defaults(Cli::command(), &unknown).is_err());
    }
}
