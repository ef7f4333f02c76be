//! Password hashing: argon2id in PHC strings with a random salt per hash,
//! the password policy, and a verification whose cost does not depend on
//! whether the user exists.
//!
//! Hashing and verifying take tens of milliseconds of CPU and ~19 MiB by
//! design; async callers run them in `tokio::task::spawn_blocking` (as
//! [`super::AuthState::login`] does).

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, Params, PasswordHasher, PasswordVerifier};
use tracing::warn;

use crate::api::ApiError;

/// Shortest acceptable password, in characters (not bytes), so a
/// passphrase in any script counts the same. NIST SP 800-63B asks for at
/// least 8; we ask for 12.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Longest acceptable password, in bytes: long enough for any passphrase,
/// short enough that nobody can make the server hash megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The salt of the work done for unknown users. Its value does not matter;
/// only the cost of the work does.
const DUMMY_SALT: &[u8; 16] = b"vexil-no-user-00";

/// Why a password could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters long")]
    TooShort,
    #[error("the password must be at most {MAX_PASSWORD_BYTES} bytes long")]
    TooLong,
    /// Hashing itself failed (out of memory, RNG failure).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<PasswordError> for ApiError {
    /// Policy violations are a 422 on the body's `/password`.
    fn from(err: PasswordError) -> Self {
        match err {
            PasswordError::Hash(cause) => ApiError::Internal(cause),
            policy => ApiError::invalid("/password", policy.to_string()),
        }
    }
}

/// Whether `password` may be set: 12 characters to 1024 bytes.
pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

/// Hashes and verifies passwords with one set of argon2id parameters.
#[derive(Debug, Clone)]
pub struct Passwords {
    argon2: Argon2<'static>,
}

impl Default for Passwords {
    /// argon2id with the crate's defaults, which are OWASP's recommendation
    /// (m = 19 MiB, t = 2, p = 1).
    fn default() -> Self {
        Passwords::new(Params::default())
    }
}

impl Passwords {
    /// Argon2id with `params` (tests use the cheapest ones).
    pub fn new(params: Params) -> Self {
        Passwords {
            argon2: Argon2::from(params),
        }
    }

    /// The PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) of a password
    /// that passes the policy, with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_policy(password)?;
        self.argon2
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|err| PasswordError::Hash(err.to_string()))
    }

    /// Whether `password` matches `stored`, the user's PHC string, or `None`
    /// when there is no such user.
    ///
    /// Without a user (or with a stored value that does not parse) it does
    /// the same argon2 work against a dummy and answers `false`, so the
    /// response time of a login does not tell which usernames exist. The
    /// stored hash's own parameters are used to verify it, so hashes made
    /// with older parameters keep working.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            // Never a valid password, whoever the user: no work to hide.
            return false;
        }
        let parsed = stored.and_then(|stored| match PasswordHash::new(stored) {
            Ok(hash) => Some(hash),
            Err(_) => {
                warn!("a stored password hash is not a valid PHC string; refusing the login");
                None
            }
        });
        match parsed {
            Some(hash) => self
                .argon2
                .verify_password(password.as_bytes(), &hash)
                .is_ok(),
            None => {
                self.dummy_work(password.as_bytes());
                false
            }
        }
    }

    /// As much work as verifying a hash made with our parameters.
    fn dummy_work(&self, password: &[u8]) {
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        // The result is thrown away; only the time spent matters.
        let _ = self
            .argon2
            .hash_password_into(password, DUMMY_SALT, &mut out);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The cheapest argon2id parameters, so tests stay fast in debug builds.
    pub(crate) fn cheap() -> Passwords {
        Passwords::new(Params::new(Params::MIN_M_COST, 1, 1, None).unwrap())
    }

    #[test]
    fn hashes_with_argon2id_and_a_random_salt() {
        let passwords = cheap();
        let a = passwords.hash("correct horse battery").unwrap();
        let b = passwords.hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(passwords.verify("correct horse battery", Some(&a)));
        assert!(passwords.verify("correct horse battery", Some(&b)));
    }

    #[test]
    fn the_default_parameters_are_owasps() {
        let hash = Passwords::default().hash("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[test]
    fn wrong_passwords_and_unknown_users_are_refused() {
        let passwords = cheap();
        let hash = passwords.hash("correct horse battery").unwrap();
        assert!(!passwords.verify("correct horse battery!", Some(&hash)));
        assert!(!passwords.verify("", Some(&hash)));
        assert!(!passwords.verify("correct horse battery", None));
        assert!(!passwords.verify("correct horse battery", Some("not a phc string")));
        assert!(!passwords.verify(&"x".repeat(MAX_PASSWORD_BYTES + 1), Some(&hash)));
    }

    #[test]
    fn hashes_made_with_other_parameters_still_verify() {
        let stronger = Passwords::new(Params::new(64, 2, 1, None).unwrap());
        let hash = stronger.hash("correct horse battery").unwrap();
        assert!(cheap().verify("correct horse battery", Some(&hash)));
    }

    #[test]
    fn policy() {
        assert_eq!(check_policy("short"), Err(PasswordError::TooShort));
        assert_eq!(check_policy("elevenchars"), Err(PasswordError::TooShort));
        assert_eq!(check_policy("twelve chars"), Ok(()));
        // Characters, not bytes: 12 two-byte letters pass, 11 do not.
        assert_eq!(check_policy(&"é".repeat(12)), Ok(()));
        assert_eq!(check_policy(&"é".repeat(11)), Err(PasswordError::TooShort));
        assert_eq!(check_policy(&"x".repeat(MAX_PASSWORD_BYTES)), Ok(()));
        assert_eq!(
            check_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(PasswordError::TooLong)
        );
        assert_eq!(cheap().hash("short"), Err(PasswordError::TooShort));
        let err = ApiError::from(PasswordError::TooShort);
        assert_eq!(
            err.status_code(),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
