//! `fermyon:spin/variables@2.0.0`: a component reads the variables its manifest maps in
//! `[component.x.variables]`, already resolved by the runtime at start-up.
//!
//! As on Spin, the name is validated first (`invalid-name`), then looked up among the
//! component's variables (`undefined`). Values are never logged: some are secrets.

use crate::bindings::imports::fermyon::spin2_0_0::variables::{self, Error};
use crate::SpinHostState;

impl variables::Host for SpinHostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(lookup(&self.cfg.component_id, &self.cfg.variables, &name))
    }
}

fn lookup(
    component_id: &str,
    variables: &std::collections::HashMap<String, String>,
    name: &str,
) -> Result<String, Error> {
    validate_name(name).map_err(|reason| Error::InvalidName(format!("{name:?}: {reason}")))?;
    variables
        .get(name)
        .cloned()
        .ok_or_else(|| Error::Undefined(format!("no variable for {component_id:?}.{name:?}")))
}

/// Spin's rules for a variable name: lower-case ASCII letters, digits and single underscores,
/// starting with a letter and ending with a letter or digit. The runtime uses the same rules
/// for manifest variables, so this is public.
pub fn validate_name(name: &str) -> Result<(), String> {
    let Some(first) = name.bytes().next() else {
        return Err("must not be empty".into());
    };
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "invalid character {bad:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ));
    }
    if !first.is_ascii_lowercase() {
        return Err("must start with a lowercase ASCII letter".into());
    }
    if !name
        .bytes()
        .last()
        .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return Err("must end with a lowercase ASCII letter or digit".into());
    }
    if name.contains("__") {
        return Err("must not contain multiple consecutive underscores".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn good_and_bad_names() {
        for good in ["a", "abc", "a1b2c3", "a_1", "a_1_b_3", "db_url"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "aX", "1bc", "_x", "x.y", "x_", "a__b", "x-y", "DB_URL"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lookup_distinguishes_invalid_from_undefined() {
        let vars = HashMap::from([("db_url".to_string(), "mysql://x".to_string())]);
        assert!(matches!(lookup("c", &vars, "db_url"), Ok(v) if v == "mysql://x"));
        assert!(
            matches!(lookup("c", &vars, "redis_url"), Err(Error::Undefined(m)) if m == "no variable for \"c\".\"redis_url\"")
        );
        assert!(
            matches!(lookup("c", &vars, "DB_URL"), Err(Error::InvalidName(m)) if m.starts_with("\"DB_URL\""))
        );
    }
}
