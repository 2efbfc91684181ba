//! The console's people (`ADMIN_USERS`) and its session rules. Pure: `AdminSettings::load`
//! reads the environment through `Env`.

use std::net::SocketAddr;
use std::time::Duration;

use argon2::PasswordHash;
use url::Url;

use super::env::{Env, problem};
use super::{ClientAddressRule, ConfigError};

pub use epay_api_types::Role;

#[derive(Clone)]
pub struct AdminUser {
    pub name: String,
    pub role: Role,
    /// An argon2 PHC string (`epay-proxy admin hash-password`).
    pub password_hash: String,
}

impl std::fmt::Debug for AdminUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminUser").field("name", &self.name).field("role", &self.role).finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub struct AdminSettings {
    /// Nobody: the console's sign-in refuses everyone.
    pub users: Vec<AdminUser>,
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub lifetime: Duration,
    /// How failed sign-ins slow down the next ones (`admin::throttle`).
    pub throttle: Throttle,
    /// Sign-in attempts per minute from one client address, whatever the names.
    pub sign_in_rate_per_minute: u32,
    /// Attempts per minute from addresses already failing, all of them together.
    pub retries_per_minute: u32,
    /// Operators must sign in with a second factor (TOTP) and enrol one first.
    pub require_second_factor: bool,
    /// The console's own address (`ADMIN_LISTEN`): then `/admin/` and `/api/admin/*` are
    /// served there only, not on `LISTEN`.
    pub listen: Option<SocketAddr>,
    /// The console's origin as people open it: `ADMIN_URL`, else `http://ADMIN_LISTEN`, else
    /// `PUBLIC_URL`. Changes must come from it; the cookie is `Secure` unless it is
    /// plain-http loopback.
    pub url: Url,
    /// Who the client of a request on `ADMIN_LISTEN` is: reverse proxies in front of the
    /// console's own address (`ADMIN_TRUSTED_PROXY_HOPS`, none by default), apart from
    /// `TRUSTED_PROXY_HOPS`, so a client reaching that address directly cannot name itself.
    pub client_address: ClientAddressRule,
}

/// Failed sign-ins, counted per (name, client address) within `window`: the first
/// `free_failures` cost nothing, each one after makes the next attempt from that address for
/// that name wait twice as long as the one before, up to `longest_wait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttle {
    pub free_failures: u32,
    pub longest_wait: Duration,
    pub window: Duration,
}

impl Default for Throttle {
    fn default() -> Throttle {
        Throttle { free_failures: 5, longest_wait: Duration::from_secs(15 * 60), window: Duration::from_secs(3600) }
    }
}

impl AdminSettings {
    pub(super) fn load(
        env: &Env<impl Fn(&str) -> Option<String>>,
        production: bool,
        public_url: &Url,
    ) -> Result<AdminSettings, ConfigError> {
        let throttle = Throttle::default();
        // ADMIN_LOCKOUT_AFTER / ADMIN_LOCKOUT_MINUTES are the names of the same settings
        // before waits replaced the lock; a deployment that set them keeps its numbers.
        let free_failures = match env.text("ADMIN_SIGN_IN_FREE_FAILURES") {
            Some(_) => env.count("ADMIN_SIGN_IN_FREE_FAILURES", throttle.free_failures, 1..=100)?,
            None => env.count("ADMIN_LOCKOUT_AFTER", throttle.free_failures, 1..=100)?,
        };
        let longest_wait_minutes = match env.text("ADMIN_SIGN_IN_LONGEST_WAIT_MINUTES") {
            Some(_) => env.count("ADMIN_SIGN_IN_LONGEST_WAIT_MINUTES", 15, 1..=24 * 60)?,
            None => env.count("ADMIN_LOCKOUT_MINUTES", 15, 1..=24 * 60)?,
        };
        let window_minutes = env.count("ADMIN_SIGN_IN_WINDOW_MINUTES", 60, 1..=7 * 24 * 60)?;
        if window_minutes < longest_wait_minutes {
            return Err(problem(
                "ADMIN_SIGN_IN_WINDOW_MINUTES",
                format!(
                    "{window_minutes} is shorter than the longest wait ({longest_wait_minutes} minutes): failures would be forgotten mid-wait"
                ),
            ));
        }
        let listen = env.address("ADMIN_LISTEN", "127.0.0.1:8081")?;
        let url = match (env.text("ADMIN_URL"), listen) {
            (Some(_), _) => env.base_url("ADMIN_URL", "")?,
            (None, Some(listen)) => env.base_url("ADMIN_URL", &format!("http://{}", super::loopback(listen)))?,
            (None, None) => public_url.clone(),
        };
        Ok(AdminSettings {
            users: parse_users(&env.text("ADMIN_USERS").unwrap_or_default())?,
            idle: Duration::from_secs(60 * u64::from(env.count("ADMIN_SESSION_IDLE_MINUTES", 30, 1..=24 * 60)?)),
            lifetime: Duration::from_secs(3600 * u64::from(env.count("ADMIN_SESSION_HOURS", 8, 1..=24 * 7)?)),
            throttle: Throttle {
                free_failures,
                longest_wait: Duration::from_secs(60 * u64::from(longest_wait_minutes)),
                window: Duration::from_secs(60 * u64::from(window_minutes)),
            },
            sign_in_rate_per_minute: env.count("ADMIN_SIGN_IN_RATE_PER_MINUTE", 10, 1..=10_000)?,
            retries_per_minute: env.count("ADMIN_SIGN_IN_RETRIES_PER_MINUTE", 60, 1..=100_000)?,
            require_second_factor: env.flag_or("ADMIN_REQUIRE_2FA", production)?,
            listen,
            url,
            client_address: {
                let hops = env.count("ADMIN_TRUSTED_PROXY_HOPS", 0, 0..=10)?;
                ClientAddressRule { trust_forwarded_for: hops > 0, trusted_hops: hops }
            },
        })
    }
}

/// `name:role:hash` entries separated by `;` (an argon2 hash holds `,` and `$`, never `;`).
/// A bad entry stops the process with its position and what is wrong, never the hash.
pub fn parse_users(text: &str) -> Result<Vec<AdminUser>, ConfigError> {
    let mut users: Vec<AdminUser> = Vec::new();
    for (n, entry) in text.split(';').map(str::trim).filter(|e| !e.is_empty()).enumerate() {
        let bad = |what: &str| problem("ADMIN_USERS", format!("entry {} {what}; write name:role:hash; name:role:hash", n + 1));
        let mut parts = entry.splitn(3, ':');
        let (Some(name), Some(role), Some(hash)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("is not name:role:hash"));
        };
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c)) {
            return Err(bad("has a name that is empty, longer than 64 or not letters, digits and ._-@"));
        }
        let Some(role) = Role::from_wire(role.trim()) else { return Err(bad("has a role that is neither viewer nor operator")) };
        if !PasswordHash::new(hash.trim()).is_ok_and(|parsed| parsed.algorithm.as_str().starts_with("argon2")) {
            return Err(bad("has a hash that is not an argon2 PHC string (epay-proxy admin hash-password prints one)"));
        }
        if users.iter().any(|user| user.name == name) {
            return Err(bad(&format!("names `{name}` a second time")));
        }
        users.push(AdminUser { name: name.to_owned(), role, password_hash: hash.trim().to_owned() });
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Y4jiZlxULoplHhc4Hq4sjtb4OzjTxF5yNTBgmnGzsus";

    #[test]
    fn users_are_read_and_a_bad_entry_is_named_without_its_hash() {
        let users = parse_users(&format!(" aigerim:operator:{HASH} ; support.1:viewer:{HASH};")).unwrap();
        assert_eq!(
            users.iter().map(|u| (u.name.as_str(), u.role)).collect::<Vec<_>>(),
            [("aigerim", Role::Operator), ("support.1", Role::Viewer)]
        );
        for (text, named) in [
            (format!("a:admin:{HASH}"), "role"),
            (format!("a:operator:{HASH};a:viewer:{HASH}"), "second time"),
            ("a:viewer:plaintext-password".to_owned(), "argon2"),
            ("a:viewer".to_owned(), "name:role:hash"),
            (format!(":viewer:{HASH}"), "name"),
        ] {
            let message = parse_users(&text).unwrap_err().to_string();
            assert!(message.contains(named) && message.contains("ADMIN_USERS"), "{text}: {message}");
            assert!(!message.contains("plaintext-password") && !message.contains("Y4jiZl"), "{message}");
        }
        assert!(format!("{:?}", users[0]).contains("aigerim") && !format!("{:?}", users[0]).contains("argon2id"));
    }
}
