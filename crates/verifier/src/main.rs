//! The `trustcap-verifier` command line: serve, migrate and administer tenants.

#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;

use trustcap_verifier::domain::TenantId;
use trustcap_verifier::time::now_secs;
use trustcap_verifier::{Application, Cli, Command, audit, db, init_tracing, load_or_create_secret};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::parse_with_config() {
        Ok(cli) => cli,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    init_tracing();
    match run(cli).await {
        Ok(code) => code,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let pool = db::connect(&cli.database).await.map_err(|e| format!("cannot open the database: {e}"))?;
    db::migrate(&pool).await.map_err(|e| format!("migrations failed: {e}"))?;
    if matches!(cli.command, Command::Migrate) {
        println!("migrations applied");
        return Ok(ExitCode::SUCCESS);
    }
    // Every other command writes or checks the audit trail, sealed with a key derived from the secret.
    let key = load_or_create_secret(&cli.secret_file)
        .map_err(|e| format!("service secret {}: {e}", cli.secret_file.display()))?;
    let ring = key.keyring(cli.kek.as_deref(), cli.require_kek).map_err(|e| e.to_string())?;
    let pool = pool.with_audit_key(key.audit_key()).with_keyring(ring);
    match cli.command {
        Command::Migrate => {}
        Command::CreateTenant { name } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
                return Err("the tenant name must be 1-200 printable characters".into());
            }
            let id = db::create_tenant(&pool, name, now_secs()).await?;
            println!("{id}");
        }
        Command::CreateApiKey { tenant } => {
            let tenant = TenantId::parse(&tenant).ok_or("not a tenant id (ten_...)")?;
            if !db::tenant_exists(&pool, &tenant).await? {
                return Err(format!("no tenant {tenant}").into());
            }
            let key = db::create_api_key(&pool, &tenant, now_secs()).await?;
            println!("{}", key.expose_secret());
        }
        Command::AddReviewer { tenant, email, role } => {
            use trustcap_verifier::console::accounts::{self, Email, Role};
            use trustcap_verifier::console::password::Password;
            let tenant = TenantId::parse(&tenant).ok_or("not a tenant id (ten_...)")?;
            let email = Email::parse(&email).ok_or("not an email address")?;
            let role = Role::parse(&role).ok_or("the role must be reviewer or admin")?;
            let text = match std::env::var("TRUSTCAP_REVIEWER_PASSWORD") {
                Ok(text) => text,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let password = Password::parse_new(&text)?;
            let id = accounts::create_reviewer(&pool, audit::Actor::Cli, &tenant, &email, role, password, now_secs())
                .await?;
            println!("{id}");
        }
        Command::UpdateLists { dir } => {
            let summary = trustcap_verifier::screening::monitoring::update_lists(&pool, &dir, now_secs()).await?;
            println!("{}", serde_json::to_string(&summary)?);
        }
        Command::RotateKek { batch } => {
            let summary = trustcap_verifier::vault::keys::rotate(&pool, batch, now_secs()).await?;
            println!("{}", serde_json::to_string(&summary)?);
        }
        Command::VerifyAudit { tenant } => {
            let tenant = tenant.map(|t| TenantId::parse(&t).ok_or("not a tenant id (ten_...)")).transpose()?;
            let report = audit::verify(&pool, pool.audit_key()?, tenant.as_ref().map(TenantId::as_str)).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.ok() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Serve(args) => {
            let mut args = args;
            if args.image_store.is_none() {
                // Images of a SQLite deployment live in a directory beside its file.
                args.image_store = default_image_dir(&cli.database).map(|dir| format!("file://{dir}"));
            }
            let app = Application::build(pool.clone(), key, args).await?;
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "listening on http://{}", app.local_addr())?;
            stdout.flush()?;
            drop(stdout);
            tracing::info!(addr = %app.local_addr(), "serving");
            app.run_until_stopped().await?;
            pool.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The absolute directory beside a SQLite database file that holds its images.
fn default_image_dir(url: &str) -> Option<String> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    let dir = std::path::PathBuf::from(format!("{path}.images"));
    let dir = if dir.is_absolute() { dir } else { std::env::current_dir().ok()?.join(dir) };
    Some(dir.display().to_string())
}
