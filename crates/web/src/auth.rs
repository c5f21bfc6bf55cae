//! Accounts, roles and sessions.
//!
//! - Users live in `web_user` with an argon2id hash (PHC string) of their password.
//! - A session is 32 random bytes in an `HttpOnly; SameSite=Strict` cookie (`Secure` when the
//!   node serves TLS); the database keeps only its SHA-256, the user, the session's CSRF token
//!   and when it was last used. A session idle for [`IDLE_SECS`] or older than [`MAX_SECS`] is
//!   gone; a deactivated user's sessions stop working at the next request (the lookup joins
//!   the user and requires `active`), and deactivation deletes them too.
//! - Login throttling: after [`MAX_FAILURES`] failed logins for one user name, further logins
//!   for it are refused for [`LOCK_SECS`] whatever the password (kept in memory: a restart
//!   forgets it, which only gives an attacker one more round).

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use sinergi_model::Lang;
use sqlx::Row as _;

use crate::db::{DbError, WebDb};

/// A session idle this long is over (seconds).
pub const IDLE_SECS: i64 = 30 * 60;
/// A session this old is over however active (seconds).
pub const MAX_SECS: i64 = 12 * 3600;
/// Failed logins in a row before a user name is locked.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked user name stays locked (seconds).
pub const LOCK_SECS: i64 = 15 * 60;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sinergi_sesi";

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A Dinas Sosial officer: sees and acts only on rows of one kabupaten/kota.
    Operator,
    /// A Kemensos programme supervisor: national; overrides case outcomes.
    Pengawas,
    /// An agency's data steward: agreements, tokens, datasets.
    PengelolaData,
    /// Read-only: results and the audit log, never a change.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Operator,
        Role::Pengawas,
        Role::PengelolaData,
        Role::Auditor,
    ];

    /// The stable code (`operator`, `pengawas`, `pengelola-data`, `auditor`).
    pub const fn code(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Pengawas => "pengawas",
            Role::PengelolaData => "pengelola-data",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Role::ALL.into_iter().find(|r| r.code() == s)
    }

    /// The role's name for people.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Role::Operator => lang.pick("Operator Dinas Sosial", "Dinas Sosial operator"),
            Role::Pengawas => lang.pick("Pengawas program", "Programme supervisor"),
            Role::PengelolaData => lang.pick("Pengelola data", "Data steward"),
            Role::Auditor => "Auditor",
        }
    }

    /// May upload lists and run validations.
    pub fn can_validate(self) -> bool {
        matches!(self, Role::Operator | Role::Pengawas)
    }

    /// May see validation results.
    pub fn can_see_results(self) -> bool {
        matches!(self, Role::Operator | Role::Pengawas | Role::Auditor)
    }

    /// May see full NIKs (operators work the cases of their region; the others see them masked
    /// except the supervisor).
    pub fn sees_full_nik(self) -> bool {
        matches!(self, Role::Operator | Role::Pengawas)
    }
}

/// A user as the application sees them.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The kabupaten/kota code (4 digits, `PPKK`) an operator is scoped to.
    pub region: Option<String>,
    pub active: bool,
}

impl User {
    /// Whether this user may see a row of the given village or regency code.
    pub fn sees_region(&self, region: &str) -> bool {
        match (self.role, &self.region) {
            (Role::Operator, Some(r)) => region.starts_with(r.as_str()),
            (Role::Operator, None) => false,
            _ => true,
        }
    }
}

/// Why an account could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("user name must be 3–64 characters of a–z, 0–9, '.', '-' or '_'")]
    BadName,
    #[error("password must be at least 10 characters")]
    WeakPassword,
    #[error("an operator needs the code of a kabupaten/kota (4 digits, e.g. 3301)")]
    NeedsRegion,
    #[error("unknown kabupaten/kota code {0}")]
    UnknownRegion(String),
    #[error("user {0} already exists")]
    Exists(String),
    #[error("no user {0}")]
    NotFound(String),
    #[error("password hashing failed")]
    Hash,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Db(e.into())
    }
}

impl AccountError {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        if lang.is_en() {
            return self.to_string();
        }
        match self {
            AccountError::BadName => {
                "nama pengguna harus 3–64 karakter a–z, 0–9, '.', '-' atau '_'".into()
            }
            AccountError::WeakPassword => "kata sandi minimal 10 karakter".into(),
            AccountError::NeedsRegion => {
                "operator memerlukan kode kabupaten/kota (4 digit, mis. 3301)".into()
            }
            AccountError::UnknownRegion(r) => format!("kode kabupaten/kota {r} tidak dikenal"),
            AccountError::Exists(u) => format!("pengguna {u} sudah ada"),
            AccountError::NotFound(u) => format!("pengguna {u} tidak ada"),
            AccountError::Hash => "penyandian kata sandi gagal".into(),
            AccountError::Db(e) => e.to_string(),
        }
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub region: Option<String>,
    pub password: String,
}

fn valid_name(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// The argon2id PHC string of a password (CPU-heavy: call from a blocking thread).
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| AccountError::Hash)
}

/// Whether `password` matches the PHC string (CPU-heavy: call from a blocking thread).
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A fixed hash verified when the user name is unknown, so a failed login takes as long
/// whether or not the name exists.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("sinergi-no-such-user").unwrap_or_default())
}

fn user_from_row(r: &sqlx::any::AnyRow) -> Result<User, sqlx::Error> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: Role::parse(&role).unwrap_or(Role::Auditor),
        region: r.try_get("region")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

const USER_COLS: &str = "id, username, display_name, role, region, active";

impl WebDb {
    /// Creates an account.
    pub async fn add_user(&self, u: &NewUser) -> Result<User, AccountError> {
        let username = u.username.trim().to_ascii_lowercase();
        if !valid_name(&username) {
            return Err(AccountError::BadName);
        }
        if u.password.chars().count() < 10 {
            return Err(AccountError::WeakPassword);
        }
        let region = match (u.role, u.region.as_deref().map(str::trim)) {
            (Role::Operator, None | Some("")) => return Err(AccountError::NeedsRegion),
            (_, None | Some("")) => None,
            (_, Some(r)) => {
                let digits: String = r.chars().filter(|c| c.is_ascii_digit()).collect();
                if digits.len() != 4 || crate::region::regency_name(&digits).is_none() {
                    return Err(AccountError::UnknownRegion(r.to_string()));
                }
                Some(digits)
            }
        };
        let pw = u.password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&pw))
            .await
            .map_err(|_| AccountError::Hash)??;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM web_user WHERE username = $1")
            .bind(&username)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_some() {
            return Err(AccountError::Exists(username));
        }
        let display = if u.display_name.trim().is_empty() {
            username.clone()
        } else {
            u.display_name.trim().to_string()
        };
        sqlx::query(
            "INSERT INTO web_user (username, display_name, role, region, password_hash, active, \
             created_at) VALUES ($1, $2, $3, $4, $5, 1, $6)",
        )
        .bind(&username)
        .bind(&display)
        .bind(u.role.code())
        .bind(region.clone())
        .bind(&hash)
        .bind(crate::now_us())
        .execute(&self.pool)
        .await?;
        self.user_by_name(&username)
            .await?
            .ok_or(AccountError::NotFound(username))
    }

    /// A user by name.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>, AccountError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM web_user WHERE username = $1"
        )))
        .bind(username.trim().to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, AccountError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM web_user ORDER BY username"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(user_from_row)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// Deactivates a user and ends every session they have.
    pub async fn deactivate(&self, username: &str) -> Result<User, AccountError> {
        let name = username.trim().to_ascii_lowercase();
        let user = self
            .user_by_name(&name)
            .await?
            .ok_or_else(|| AccountError::NotFound(name.clone()))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE web_user SET active = 0, deactivated_at = $1 WHERE id = $2")
            .bind(crate::now_us())
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM web_session WHERE user_id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(User {
            active: false,
            ..user
        })
    }

    /// Checks a login: the user when the name exists, is active and the password matches.
    pub async fn check_login(&self, username: &str, password: &str) -> Option<User> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLS}, password_hash FROM web_user WHERE username = $1"
        )))
        .bind(username.trim().to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await
        .ok()?;
        let (user, phc) = match &row {
            Some(r) => (
                user_from_row(r).ok(),
                r.try_get::<String, _>("password_hash").unwrap_or_default(),
            ),
            None => (None, dummy_hash().to_string()),
        };
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &phc))
            .await
            .unwrap_or(false);
        user.filter(|u| ok && u.active)
    }

    /// Starts a session: the cookie value (shown to the browser only) and the CSRF token.
    pub async fn start_session(&self, user: &User) -> Result<(String, String), DbError> {
        let token = random_token();
        let csrf = random_token();
        let now = crate::now_us();
        sqlx::query(
            "INSERT INTO web_session (token_hash, user_id, csrf, created_at, last_seen) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(token_hash(&token))
        .bind(user.id)
        .bind(&csrf)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok((token, csrf))
    }

    /// The user and CSRF token of a live session, refreshing its idle clock; `None` when the
    /// session is unknown, idle too long, too old, or its user is deactivated.
    pub async fn session(&self, token: &str) -> Result<Option<(User, String)>, DbError> {
        let hash = token_hash(token);
        let row = sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.role, u.region, u.active, s.csrf, \
             s.created_at, s.last_seen FROM web_session s JOIN web_user u ON u.id = s.user_id \
             WHERE s.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let user = user_from_row(&r)?;
        let csrf: String = r.try_get("csrf")?;
        let created: i64 = r.try_get("created_at")?;
        let seen: i64 = r.try_get("last_seen")?;
        let now = crate::now_us();
        if !user.active
            || now - seen > IDLE_SECS * 1_000_000
            || now - created > MAX_SECS * 1_000_000
        {
            self.end_session(token).await?;
            return Ok(None);
        }
        // A write per request would queue behind result imports on SQLite: once a minute is
        // enough for an idle clock of minutes.
        if now - seen > 60_000_000 {
            sqlx::query("UPDATE web_session SET last_seen = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(&hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some((user, csrf)))
    }

    /// Ends a session.
    pub async fn end_session(&self, token: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM web_session WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Moves a session's last use back (tests of idle expiry).
    #[doc(hidden)]
    pub async fn age_sessions(&self, secs: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE web_session SET last_seen = last_seen - $1")
            .bind(secs * 1_000_000)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

use sqlx::AssertSqlSafe;

/// 32 random bytes, base64url.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the operating system provides random bytes");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn token_hash(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Failed-login counts per user name.
#[derive(Default)]
pub struct Throttle {
    inner: Mutex<HashMap<String, (u32, i64)>>,
}

impl Throttle {
    /// Whether logins for `name` are refused now (locked after too many failures).
    pub fn locked(&self, name: &str, now_us: i64) -> bool {
        let m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        m.get(name)
            .is_some_and(|&(n, until)| n >= MAX_FAILURES && now_us < until)
    }

    /// Records a failure; returns whether the name is now locked.
    pub fn fail(&self, name: &str, now_us: i64) -> bool {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 100_000 {
            m.retain(|_, (_, until)| *until > now_us);
        }
        let e = m.entry(name.to_string()).or_insert((0, 0));
        if e.0 >= MAX_FAILURES && now_us >= e.1 {
            *e = (0, 0);
        }
        e.0 += 1;
        if e.0 >= MAX_FAILURES {
            e.1 = now_us + LOCK_SECS * 1_000_000;
            true
        } else {
            false
        }
    }

    /// Clears the count after a successful login.
    pub fn succeed(&self, name: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_and_verify() {
        let h = hash_password("kata-sandi-rahasia").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("kata-sandi-rahasia", &h));
        assert!(!verify_password("kata-sandi-salah!", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn a_name_is_locked_after_five_failures_and_unlocked_after_the_lock() {
        let t = Throttle::default();
        for i in 0..MAX_FAILURES {
            assert!(!t.locked("budi", 0));
            assert_eq!(t.fail("budi", 0), i + 1 == MAX_FAILURES);
        }
        assert!(t.locked("budi", 1));
        assert!(!t.locked("siti", 1));
        assert!(!t.locked("budi", LOCK_SECS * 1_000_000 + 1));
    }

    #[test]
    fn operators_see_only_their_regency() {
        let u = User {
            id: 1,
            username: "op".into(),
            display_name: "op".into(),
            role: Role::Operator,
            region: Some("3301".into()),
            active: true,
        };
        assert!(u.sees_region("3301012001"));
        assert!(!u.sees_region("3302012001"));
        assert!(!u.sees_region(""));
        let p = User {
            role: Role::Pengawas,
            region: None,
            ..u
        };
        assert!(p.sees_region("3302012001"));
    }
}
