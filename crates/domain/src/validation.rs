//! Parse-don't-validate newtypes for user input.
//!
//! Each type has a `parse` that either returns a value known to be valid or a
//! [`FieldError`] naming the JSON field, so handlers collect every problem of a request
//! into one 422 response. Once parsed, a value cannot be invalid: the rest of the code
//! takes `&Username`, not `&str`.

use crate::error::FieldError;

/// A normalised email address: trimmed and lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// Longest address that fits SMTP's path limit (RFC 5321 §4.5.3.1.3).
pub const EMAIL_MAX: usize = 254;

impl Email {
    /// Accepts `local@domain.tld` with no spaces; lowercases the whole address so that
    /// `Alice@Example.com` and `alice@example.com` are one account.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("email", m);
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(err("is required"));
        }
        if email.chars().count() > EMAIL_MAX {
            return Err(err("must be at most 254 characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(err("must be an email address"));
        };
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        let chars_ok = !email.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | '"')
        });
        if local.is_empty() || local.len() > 64 || !domain_ok || !chars_ok {
            return Err(err("must be an email address"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A username: 3 to 20 characters of `[A-Za-z0-9_]`, kept as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("username", m);
        let len = raw.chars().count();
        if len == 0 {
            return Err(err("is required"));
        }
        if !(3..=20).contains(&len) {
            return Err(err("must be 3 to 20 characters"));
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(err("may only contain letters, digits and underscores"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form that must be unique (`Alice` and `alice` clash).
    pub fn lower(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A password: 8 to 128 characters (Unicode scalar values, not bytes). Not trimmed:
/// spaces are part of a password. Its `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("password", m);
        let len = raw.chars().count();
        if len == 0 {
            return Err(err("is required"));
        }
        if !(8..=128).contains(&len) {
            return Err(err("must be 8 to 128 characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A region from the configured list, lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region(String);

impl Region {
    /// Accepts one of `allowed` (compared without regard to case).
    pub fn parse(raw: &str, allowed: &[String]) -> Result<Self, FieldError> {
        let region = raw.trim().to_ascii_lowercase();
        if region.is_empty() {
            return Err(FieldError::new("region", "is required"));
        }
        if allowed.iter().any(|a| a.eq_ignore_ascii_case(&region)) {
            Ok(Self(region))
        } else {
            Err(FieldError::new(
                "region",
                format!("must be one of: {}", allowed.join(", ")),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An avatar URL: `http` or `https`, at most 2048 characters, no spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("avatar_url", m);
        let url = raw.trim();
        if url.chars().count() > 2048 {
            return Err(err("must be at most 2048 characters"));
        }
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| err("must be an http or https URL"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("must be an http or https URL"));
        }
        Ok(Self(url.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Collects the errors of several parses: `Ok` only when every one passed.
///
/// ```
/// use rh_domain::validation::{collect_errors, Username, Password};
/// let u = Username::parse("ab");
/// let p = Password::parse("long enough");
/// assert_eq!(collect_errors([u.as_ref().err(), p.as_ref().err()]).unwrap_err().len(), 1);
/// ```
pub fn collect_errors<'a>(
    results: impl IntoIterator<Item = Option<&'a FieldError>>,
) -> Result<(), Vec<FieldError>> {
    let errors: Vec<FieldError> = results.into_iter().flatten().cloned().collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Vec<String> {
        ["na", "eu", "sa", "asia", "oce"].map(String::from).to_vec()
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
    }

    #[test]
    fn invalid_emails_are_rejected() {
        for raw in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "a@b@c.com",
            "al ice@example.com",
            "alice@.example.com",
            "alice@example.com.",
            "alice@exa..mple.com",
            "<a>@example.com",
        ] {
            let e = Email::parse(raw).unwrap_err();
            assert_eq!(e.field, "email", "{raw}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn usernames_of_3_to_20_word_characters_are_accepted() {
        for raw in ["abc", "Alice_99", "a".repeat(20).as_str(), "___"] {
            assert!(Username::parse(raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn usernames_of_the_wrong_length_or_alphabet_are_rejected() {
        for raw in [
            "",
            "ab",
            &"a".repeat(21),
            "alice!",
            "al ice",
            "élodie",
            "bob-1",
            "ab\u{0}",
        ] {
            assert_eq!(
                Username::parse(raw).unwrap_err().field,
                "username",
                "{raw:?}"
            );
        }
    }

    #[test]
    fn the_lowercase_username_is_what_must_be_unique() {
        assert_eq!(Username::parse("AlIcE").unwrap().lower(), "alice");
        assert_eq!(Username::parse("AlIcE").unwrap().as_str(), "AlIcE");
    }

    #[test]
    fn passwords_are_counted_in_characters_not_bytes() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok()); // 256 bytes, 128 characters
        assert!(Password::parse(&"a".repeat(129)).is_err());
        assert_eq!(Password::parse("").unwrap_err().message, "is required");
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            format!("{:?}", Password::parse("hunter2hunter2").unwrap()),
            "Password(..)"
        );
    }

    #[test]
    fn regions_come_from_the_configured_list() {
        assert_eq!(Region::parse("EU", &regions()).unwrap().as_str(), "eu");
        let e = Region::parse("mars", &regions()).unwrap_err();
        assert_eq!(e.field, "region");
        assert!(e.message.contains("na, eu, sa, asia, oce"));
        assert!(Region::parse("", &regions()).is_err());
    }

    #[test]
    fn avatar_urls_must_be_http_or_https() {
        assert!(AvatarUrl::parse("https://cdn.example.com/a.png").is_ok());
        assert!(AvatarUrl::parse("http://localhost:3000/a.png").is_ok());
        for raw in [
            "javascript:alert(1)",
            "ftp://x/y",
            "https://",
            "https://a b",
            "",
        ] {
            assert!(AvatarUrl::parse(raw).is_err(), "{raw}");
        }
        assert!(AvatarUrl::parse(&format!("https://x.com/{}", "a".repeat(2048))).is_err());
    }

    #[test]
    fn every_error_of_a_request_is_collected() {
        let u = Username::parse("a");
        let p = Password::parse("short");
        let e = Email::parse("alice@example.com");
        let errors =
            collect_errors([u.as_ref().err(), p.as_ref().err(), e.as_ref().err()]).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["username", "password"]);
    }
}
