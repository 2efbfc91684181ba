//! The console's people (`ADMIN_USERS`) and its session rules. Pure: `AdminSettings::load`
//! reads the environment through `Env`.

use std::time::Duration;

use argon2::PasswordHash;

use super::ConfigError;
use super::env::{Env, problem};

/// What a signed-in person may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Reads everything; moves no money, resends nothing, resolves nothing.
    Viewer,
    /// Also refunds, captures, cancels, resends webhooks and resolves reviews.
    Operator,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }
}

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
    /// Failed sign-ins in a row for one name before it is locked...
    pub lockout_after: u32,
    /// ...for this long.
    pub lockout: Duration,
    /// Sign-in attempts per minute from one client address, whatever the names.
    pub sign_in_rate_per_minute: u32,
}

impl Default for AdminSettings {
    fn default() -> AdminSettings {
        AdminSettings {
            users: Vec::new(),
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(8 * 3600),
            lockout_after: 5,
            lockout: Duration::from_secs(15 * 60),
            sign_in_rate_per_minute: 10,
        }
    }
}

impl AdminSettings {
    pub(super) fn load(env: &Env<impl Fn(&str) -> Option<String>>) -> Result<AdminSettings, ConfigError> {
        let defaults = AdminSettings::default();
        Ok(AdminSettings {
            users: parse_users(&env.text("ADMIN_USERS").unwrap_or_default())?,
            idle: Duration::from_secs(60 * u64::from(env.count("ADMIN_SESSION_IDLE_MINUTES", 30, 1..=24 * 60)?)),
            lifetime: Duration::from_secs(3600 * u64::from(env.count("ADMIN_SESSION_HOURS", 8, 1..=24 * 7)?)),
            lockout_after: env.count("ADMIN_LOCKOUT_AFTER", defaults.lockout_after, 1..=100)?,
            lockout: Duration::from_secs(60 * u64::from(env.count("ADMIN_LOCKOUT_MINUTES", 15, 1..=24 * 60)?)),
            sign_in_rate_per_minute: env.count("ADMIN_SIGN_IN_RATE_PER_MINUTE", defaults.sign_in_rate_per_minute, 1..=10_000)?,
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
        let Some(role) = Role::parse(role.trim()) else { return Err(bad("has a role that is neither viewer nor operator")) };
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
