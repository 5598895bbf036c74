//! Reviewer accounts: tenant-scoped, with a role and an Argon2id password hash, and the
//! per-tenant console settings (four-eyes approval). Creation and setting changes are
//! audited on the tenant's chain with the reviewer id only (no email, no password).

use std::fmt;

use sqlx::Row as _;

use crate::audit::Actor;
use crate::console::password::{self, Password, PasswordError};
use crate::db::Db;
use crate::domain::{TenantId, random_bytes};
use crate::error::AppError;

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const ID_RANDOM_LEN: usize = 26;

/// A reviewer account: `rev_` and 26 random base32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReviewerId(String);

impl ReviewerId {
    /// A fresh random id.
    pub fn generate() -> Self {
        let bytes: [u8; ID_RANDOM_LEN] = random_bytes();
        Self(format!("rev_{}", bytes.iter().map(|b| BASE32[usize::from(b & 31)] as char).collect::<String>()))
    }

    /// Parses untrusted text.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("rev_")?;
        (rest.len() == ID_RANDOM_LEN && rest.bytes().all(|b| BASE32.contains(&b))).then(|| Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReviewerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reviewer's login name: an email address, trimmed and lowercased. PII: never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(..)")
    }
}

impl Email {
    /// Parses untrusted text: 3-254 bytes, one `@` with text on both sides, no spaces or
    /// control characters.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_lowercase();
        let (local, domain) = text.split_once('@')?;
        let ok = (3..=254).contains(&text.len())
            && !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        ok.then_some(Self(text))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a reviewer may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Works the queue: approve, decline, request resubmission.
    Reviewer,
    /// A reviewer who also changes the tenant's console settings (four-eyes).
    Admin,
}

impl Role {
    /// The stored form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Reviewer => "reviewer",
            Self::Admin => "admin",
        }
    }

    /// Parses `reviewer` or `admin` (`senior` is accepted as a name for `admin`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reviewer" => Some(Self::Reviewer),
            "admin" | "senior" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A reviewer account as stored (without its hash).
#[derive(Debug, Clone)]
pub struct Reviewer {
    /// Account id.
    pub id: ReviewerId,
    /// Tenant whose cases the reviewer sees.
    pub tenant: TenantId,
    /// Login name.
    pub email: Email,
    /// Role.
    pub role: Role,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The password does not meet the policy.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The email address is taken.
    #[error("a reviewer with this email address already exists")]
    EmailTaken,
    /// No such tenant.
    #[error("no such tenant")]
    NoTenant,
    /// Database or audit failure.
    #[error(transparent)]
    App(#[from] AppError),
}

/// Creates a reviewer of `tenant` (audited `reviewer.created` on the tenant's chain as `actor`,
/// with the id and role only). The password is hashed on a blocking thread.
pub async fn create_reviewer(
    db: &Db,
    actor: Actor<'_>,
    tenant: &TenantId,
    email: &Email,
    role: Role,
    password: Password,
    now: i64,
) -> Result<ReviewerId, AccountError> {
    if !crate::db::tenant_exists(db, tenant).await.map_err(AppError::from)? {
        return Err(AccountError::NoTenant);
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| AppError::internal(format_args!("hashing task: {e}")))??;
    let id = ReviewerId::generate();
    let mut tx = db.begin().await.map_err(AppError::from)?;
    let taken: Option<String> = sqlx::query_scalar("SELECT id FROM reviewers WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(AppError::from)?;
    if taken.is_some() {
        return Err(AccountError::EmailTaken);
    }
    sqlx::query(
        "INSERT INTO reviewers (id, tenant_id, email, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(email.as_str())
    .bind(role.as_str())
    .bind(&hash)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(AppError::from)?;
    let details = serde_json::json!({"role": role.as_str()});
    db.auditor(actor)?.record(&mut tx, tenant.as_str(), "reviewer.created", id.as_str(), details, now).await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(id)
}

fn reviewer_from_row(row: &sqlx::any::AnyRow) -> Result<Reviewer, AppError> {
    let id: String = row.try_get("id")?;
    let tenant: String = row.try_get("tenant_id")?;
    let email: String = row.try_get("email")?;
    let role: String = row.try_get("role")?;
    Ok(Reviewer {
        id: ReviewerId::parse(&id).ok_or_else(|| AppError::internal("stored reviewer id is malformed"))?,
        tenant: TenantId::parse(&tenant).ok_or_else(|| AppError::internal("stored tenant id is malformed"))?,
        email: Email::parse(&email).ok_or_else(|| AppError::internal("stored reviewer email is malformed"))?,
        role: Role::parse(&role).ok_or_else(|| AppError::internal("stored reviewer role is unknown"))?,
    })
}

/// An active account by login name, with its password hash.
pub async fn find_by_email(db: &Db, email: &Email) -> Result<Option<(Reviewer, String)>, AppError> {
    let row = sqlx::query(
        "SELECT id, tenant_id, email, role, password_hash FROM reviewers WHERE email = $1 AND disabled_at IS NULL",
    )
    .bind(email.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| Ok((reviewer_from_row(&row)?, row.try_get("password_hash")?))).transpose()
}

/// An active account by id.
pub async fn find_by_id(db: &Db, id: &str) -> Result<Option<Reviewer>, AppError> {
    let row = sqlx::query("SELECT id, tenant_id, email, role FROM reviewers WHERE id = $1 AND disabled_at IS NULL")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(reviewer_from_row).transpose()
}

/// Whether `tenant` requires two different reviewers to approve a case (default: no).
pub async fn four_eyes(db: &Db, tenant: &str) -> Result<bool, AppError> {
    let on: Option<i64> = sqlx::query_scalar("SELECT four_eyes FROM console_settings WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_optional(db.pool())
        .await?;
    Ok(on.unwrap_or(0) != 0)
}

/// Turns four-eyes approval on or off for `tenant` (audited `console.four_eyes` as `actor`).
pub async fn set_four_eyes(db: &Db, actor: Actor<'_>, tenant: &str, on: bool, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO console_settings (tenant_id, four_eyes, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id) DO UPDATE SET four_eyes = $2, updated_at = $3",
    )
    .bind(tenant)
    .bind(i64::from(on))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let details = serde_json::json!({"four_eyes": on});
    db.auditor(actor)?.record(&mut tx, tenant, "console.four_eyes", tenant, details, now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        let id = ReviewerId::generate();
        assert_eq!(ReviewerId::parse(id.as_str()), Some(id));
        assert!(ReviewerId::parse("rev_x").is_none());
        assert_eq!(Email::parse("  Ana@Example.ORG ").unwrap().as_str(), "ana@example.org");
        for bad in ["", "a", "@b", "a@", "a b@c", "a@b@c", "a@\u{7}"] {
            assert!(Email::parse(bad).is_none(), "{bad:?}");
        }
        assert!(!format!("{:?}", Email::parse("ana@example.org").unwrap()).contains("ana"));
        assert_eq!(Role::parse("senior"), Some(Role::Admin));
        assert_eq!(Role::parse("reviewer"), Some(Role::Reviewer));
        assert_eq!(Role::parse("root"), None);
    }
}
