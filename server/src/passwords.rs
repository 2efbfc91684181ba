//! Passwords of people: argon2id hashes (`ADMIN_USERS`), checked on tokio's blocking pool
//! with at most half the cores at a time. Each check holds about 19 MiB for tens of
//! milliseconds; without a bound a flood of sign-ins took every core and gigabytes of
//! memory from the payers. A check that finds no free permit within a second is refused
//! with 503 and `Retry-After` instead of queueing.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::http::StatusCode;
use epay_api_types::ErrorCode;
use tokio::sync::Semaphore;

use crate::error::AppError;

/// How long a sign-in waits for a free permit before it is refused.
const PERMIT_WAIT: Duration = Duration::from_secs(1);

/// An argon2id hash of `password` for `ADMIN_USERS` (`epay-proxy admin hash-password`).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// Checked for a name nobody has, so a wrong name takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&crate::secrets::random_hex(16)))
}

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// The bounded checker, one per process.
#[derive(Clone)]
pub struct PasswordChecks {
    permits: Arc<Semaphore>,
}

impl PasswordChecks {
    /// At most half the cores (at least one) check passwords at once: sign-in never takes
    /// more than half the machine from checkouts and postLinks.
    pub fn new() -> PasswordChecks {
        PasswordChecks::with_permits(std::thread::available_parallelism().map_or(1, |cores| cores.get().div_ceil(2)))
    }

    pub fn with_permits(permits: usize) -> PasswordChecks {
        PasswordChecks { permits: Arc::new(Semaphore::new(permits.max(1))) }
    }

    /// Whether `password` matches `hash`; 503 with `Retry-After` when every permit stays
    /// taken for a second.
    pub async fn matches(&self, password: String, hash: String) -> Result<bool, AppError> {
        let permit = tokio::time::timeout(PERMIT_WAIT, self.permits.clone().acquire_owned()).await;
        let Ok(Ok(permit)) = permit else {
            tracing::warn!("a console sign-in was refused: every password check was busy for a second");
            return Err(AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::RateLimited,
                "the console is checking many sign-ins right now; try again in a few seconds",
            )
            .retry_after(2));
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            verify(&password, &hash)
        })
        .await
        .map_err(AppError::internal)
    }
}

impl Default for PasswordChecks {
    fn default() -> PasswordChecks {
        PasswordChecks::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_check_waits_for_a_permit_and_is_refused_when_none_frees_up() {
        let hash = hash_password("right");
        let checks = PasswordChecks::with_permits(1);
        assert!(checks.matches("right".into(), hash.clone()).await.unwrap());
        assert!(!checks.matches("wrong".into(), hash.clone()).await.unwrap());
        let held = checks.permits.clone().acquire_owned().await.unwrap();
        let refused = checks.matches("right".into(), hash.clone()).await.unwrap_err();
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        drop(held);
        assert!(checks.matches("right".into(), hash).await.unwrap(), "free again");
    }
}
