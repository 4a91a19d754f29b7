//! The Prometheus text exposition format (version 0.0.4), written by hand because it is
//! a few lines of formatting and the `prometheus` crate's registry does not fit a
//! component that lives for one request: the values come from Redis and MySQL on every
//! scrape, not from process-local instruments.

use std::fmt::Write;

/// What a family is, for its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

/// One metric family: a name, its help text and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub samples: Vec<Sample>,
}

/// One sample: its labels (name, value) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Sample {
    pub fn new(labels: Vec<(&'static str, String)>, value: f64) -> Self {
        Sample { labels, value }
    }

    /// A sample without labels.
    pub fn bare(value: f64) -> Self {
        Sample::new(Vec::new(), value)
    }
}

impl Family {
    pub fn new(name: &'static str, help: &'static str, kind: Kind) -> Self {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    pub fn with(mut self, sample: Sample) -> Self {
        self.samples.push(sample);
        self
    }
}

/// The families as exposition text. A family without samples still gets its `# HELP`
/// and `# TYPE` lines, so a dashboard can tell "no traffic yet" from "not exported".
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families {
        let kind = match f.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(f.help));
        let _ = writeln!(out, "# TYPE {} {kind}", f.name);
        for s in &f.samples {
            out.push_str(f.name);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (name, value)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label(value));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", number(s.value));
        }
    }
    out
}

/// Label values escape `\`, `"` and newlines.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Help text escapes `\` and newlines.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Integers without a fraction (counters are integers); the format's spellings for the
/// special values.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_with_help_type_and_escaped_labels() {
        let text = render(&[
            Family::new("rh_x_total", "Things.\nDone", Kind::Counter)
                .with(Sample::new(vec![("mode", "1v1".into())], 3.0))
                .with(Sample::new(
                    vec![("mode", "a\"b\\c".into()), ("region", "eu".into())],
                    0.5,
                )),
            Family::new("rh_idle", "Nothing yet.", Kind::Gauge),
            Family::new("rh_bare", "Bare.", Kind::Gauge).with(Sample::bare(f64::INFINITY)),
        ]);
        assert_eq!(
            text,
            "# HELP rh_x_total Things.\\nDone\n\
             # TYPE rh_x_total counter\n\
             rh_x_total{mode=\"1v1\"} 3\n\
             rh_x_total{mode=\"a\\\"b\\\\c\",region=\"eu\"} 0.5\n\
             # HELP rh_idle Nothing yet.\n\
             # TYPE rh_idle gauge\n\
             # HELP rh_bare Bare.\n\
             # TYPE rh_bare gauge\n\
             rh_bare +Inf\n"
        );
    }
}
