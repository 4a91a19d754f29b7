//! Application variables: resolution (override → default → required error) and `{{ name }}`
//! template expansion, as Spin does it.
//!
//! Values of secret variables are never formatted into errors or logs: errors name the
//! variable, never its value. [`Resolved`]'s `Debug` prints names only.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use anyhow::bail;

use crate::manifest::VariableDecl;

/// Every `[variables]` entry with its final value.
pub struct Resolved {
    values: HashMap<String, String>,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values may be secrets.
        f.debug_set().entries(self.values.keys()).finish()
    }
}

impl Resolved {
    /// Resolves every declared variable. `overrides` holds what Spin reads from
    /// `SPIN_VARIABLE_<NAME>` (key = lowercase name). Overrides for undeclared names are
    /// ignored, as Spin ignores unrelated environment variables.
    pub fn resolve(
        decls: &BTreeMap<String, VariableDecl>,
        overrides: &HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let mut values = HashMap::with_capacity(decls.len());
        let mut missing = Vec::new();
        for (name, decl) in decls {
            let value = overrides.get(name).or(decl.default.as_ref());
            match value {
                Some(v) => {
                    values.insert(name.clone(), v.clone());
                }
                None => missing.push(name.as_str()),
            }
        }
        if !missing.is_empty() {
            let hints: Vec<String> = missing
                .iter()
                .map(|n| format!("`{n}` (set SPIN_VARIABLE_{})", n.to_ascii_uppercase()))
                .collect();
            bail!("required variable(s) without a value: {}", hints.join(", "));
        }
        Ok(Self { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Expands `{{ name }}` expressions in `template` with application variables.
    /// `context` names where the template came from, for errors.
    pub fn expand(&self, template: &str, context: &str) -> anyhow::Result<String> {
        let parts = parse_template(template).map_err(|e| anyhow::anyhow!("{context}: {e}"))?;
        let mut out = String::with_capacity(template.len());
        for part in parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Variable(name) => match self.get(name) {
                    Some(v) => out.push_str(v),
                    None => bail!("{context}: template references `{name}`, which is not declared in [variables]"),
                },
            }
        }
        Ok(out)
    }
}

#[derive(Debug, PartialEq)]
enum Part<'a> {
    Literal(&'a str),
    Variable(&'a str),
}

/// Splits a template into literals and `{{ name }}` references.
fn parse_template(mut s: &str) -> anyhow::Result<Vec<Part<'_>>> {
    let mut parts = Vec::new();
    while let Some(start) = s.find("{{") {
        if start > 0 {
            parts.push(Part::Literal(&s[..start]));
        }
        let rest = &s[start + 2..];
        let Some(end) = rest.find("}}") else {
            bail!("unterminated '{{{{' in template");
        };
        let name = rest[..end].trim();
        crate::manifest::check_variable_name(name)?;
        parts.push(Part::Variable(name));
        s = &rest[end + 2..];
    }
    if !s.is_empty() {
        parts.push(Part::Literal(s));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decls(entries: &[(&str, Option<&str>, bool)]) -> BTreeMap<String, VariableDecl> {
        entries
            .iter()
            .map(|(n, d, req)| {
                let decl = VariableDecl {
                    default: d.map(str::to_string),
                    required: *req,
                    secret: false,
                    description: None,
                };
                (n.to_string(), decl)
            })
            .collect()
    }

    #[test]
    fn the_default_is_used_without_an_override() {
        let r = Resolved::resolve(&decls(&[("a", Some("x"), false)]), &HashMap::new()).unwrap();
        assert_eq!(r.get("a"), Some("x"));
    }

    #[test]
    fn an_override_beats_the_default() {
        let over = HashMap::from([("a".to_string(), "y".to_string())]);
        let r = Resolved::resolve(&decls(&[("a", Some("x"), false)]), &over).unwrap();
        assert_eq!(r.get("a"), Some("y"));
    }

    #[test]
    fn a_missing_required_variable_is_named() {
        let e =
            Resolved::resolve(&decls(&[("db_password", None, true)]), &HashMap::new()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("db_password") && msg.contains("SPIN_VARIABLE_DB_PASSWORD"),
            "{msg}"
        );
    }

    #[test]
    fn templates_expand_with_spaces_or_without() {
        let over = HashMap::from([("pw".to_string(), "s3cret".to_string())]);
        let r = Resolved::resolve(
            &decls(&[("host", Some("h:1"), false), ("pw", None, true)]),
            &over,
        )
        .unwrap();
        assert_eq!(
            r.expand("mysql://u:{{pw}}@{{ host }}/db", "t").unwrap(),
            "mysql://u:s3cret@h:1/db"
        );
        assert_eq!(r.expand("plain", "t").unwrap(), "plain");
    }

    #[test]
    fn an_undeclared_reference_is_named_without_values() {
        let r =
            Resolved::resolve(&decls(&[("pw", Some("s3cret"), false)]), &HashMap::new()).unwrap();
        let msg = r
            .expand("{{ pw }}{{ nope }}", "[component.x.variables] url")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("nope") && msg.contains("component.x"), "{msg}");
        assert!(!msg.contains("s3cret"));
    }

    #[test]
    fn an_unterminated_template_is_refused() {
        let r = Resolved::resolve(&BTreeMap::new(), &HashMap::new()).unwrap();
        assert!(r.expand("{{ x", "t").is_err());
    }

    #[test]
    fn debug_prints_names_not_values() {
        let r =
            Resolved::resolve(&decls(&[("pw", Some("s3cret"), false)]), &HashMap::new()).unwrap();
        let d = format!("{r:?}");
        assert!(d.contains("pw") && !d.contains("s3cret"));
    }
}
