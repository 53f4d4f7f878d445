//! Findings of the lints and their rustc-style rendering.

use std::fmt;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Level as SnippetLevel, Renderer, Snippet};
pub use wiring_model::lint::{Code, Finding, Level};

/// Every finding of one wiring file, with the text they point into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Findings {
    path: String,
    source: String,
    /// Where each line of `source` starts, so that a finding renders the
    /// lines it points at, not the whole file again.
    line_starts: Vec<usize>,
    items: Vec<Finding>,
}

impl Findings {
    /// Findings about `source`, shown as `path`; sorted by position, causes
    /// before consequences (see [`consequence`]).
    pub fn new(
        path: impl Into<String>,
        source: impl Into<String>,
        mut items: Vec<Finding>,
    ) -> Self {
        let source = source.into();
        for item in &mut items {
            item.span = clamp(&source, &item.span);
            for (span, _) in &mut item.secondary {
                *span = clamp(&source, span);
            }
        }
        items.sort_by_key(|f| {
            let after = consequence(f.code);
            (after > 0, f.span.start, f.span.end, after, f.code)
        });
        items.dedup();
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Findings {
            path: path.into(),
            source,
            line_starts,
            items,
        }
    }

    /// The wiring file as named in diagnostics.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The text of the wiring file.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every finding, errors and warnings, in the order they print (by
    /// position, causes before consequences).
    pub fn iter(&self) -> std::slice::Iter<'_, Finding> {
        self.items.iter()
    }

    /// How many findings there are, at every level.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the wiring file is clean.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many findings are errors (they fail the build).
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|f| f.level == Level::Error)
            .count()
    }

    /// How many findings are warnings.
    pub fn warning_count(&self) -> usize {
        self.items
            .iter()
            .filter(|f| f.level == Level::Warning)
            .count()
    }

    /// True when at least one finding is an error: the build step fails.
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// The codes found, in order (handy in tests).
    pub fn codes(&self) -> Vec<Code> {
        self.items.iter().map(|f| f.code).collect()
    }

    /// One finding as rustc prints it, without a trailing newline.
    pub fn render_finding(&self, finding: &Finding) -> String {
        let level = match finding.level {
            Level::Error => SnippetLevel::ERROR,
            Level::Warning => SnippetLevel::WARNING,
        };
        let (lines, first_line) = self.lines_of(finding);
        let offset = lines.start;
        let shift = |span: &Range<usize>| span.start - offset..span.end - offset;
        let mut primary = AnnotationKind::Primary.span(shift(&finding.span));
        if !finding.label.is_empty() {
            primary = primary.label(finding.label.as_str());
        }
        let mut snippet = Snippet::source(&self.source[lines])
            .line_start(first_line)
            .path(self.path.as_str())
            .annotation(primary);
        for (span, label) in &finding.secondary {
            let mut annotation = AnnotationKind::Context.span(shift(span));
            if !label.is_empty() {
                annotation = annotation.label(label.as_str());
            }
            snippet = snippet.annotation(annotation);
        }
        let mut group = level
            .primary_title(finding.message.as_str())
            .id(finding.code.as_str())
            .element(snippet);
        for note in &finding.notes {
            group = group.element(SnippetLevel::NOTE.message(note.as_str()));
        }
        if let Some(help) = &finding.help {
            group = group.element(SnippetLevel::HELP.message(help.as_str()));
        }
        Renderer::plain().render(&[group])
    }

    /// The whole lines of the source that the finding's spans touch, and the
    /// 1-based number of the first.
    fn lines_of(&self, finding: &Finding) -> (Range<usize>, usize) {
        let spans = std::iter::once(&finding.span).chain(finding.secondary.iter().map(|(s, _)| s));
        let start = spans.clone().map(|s| s.start).min().unwrap_or(0);
        let end = spans.map(|s| s.end).max().unwrap_or(0);
        // The line holding `start`: the last line starting at or before it.
        let first = self
            .line_starts
            .partition_point(|&l| l <= start)
            .saturating_sub(1);
        let last = self.line_starts.partition_point(|&l| l <= end);
        let from = self.line_starts.get(first).copied().unwrap_or(0);
        let to = self
            .line_starts
            .get(last)
            .copied()
            .unwrap_or(self.source.len())
            .max(from);
        (from..to, first + 1)
    }

    /// The closing line, as cargo prints it:
    /// `error: could not wire `wiring.toml` due to 2 previous errors; 1 warning emitted`.
    /// Empty when there is no finding.
    pub fn summary(&self) -> String {
        let errors = self.error_count();
        let warnings = self.warning_count();
        let warnings_text = match warnings {
            1 => "1 warning emitted".to_string(),
            n => format!("{n} warnings emitted"),
        };
        match (errors, warnings) {
            (0, 0) => String::new(),
            (0, w) => format!(
                "warning: `{}` generated {}",
                self.path,
                if w == 1 {
                    "1 warning".to_string()
                } else {
                    format!("{w} warnings")
                }
            ),
            (e, w) => {
                let errors_text = match e {
                    1 => "1 previous error".to_string(),
                    n => format!("{n} previous errors"),
                };
                let tail = if w > 0 {
                    format!("; {warnings_text}")
                } else {
                    String::new()
                };
                format!(
                    "error: could not wire `{}` due to {errors_text}{tail}",
                    self.path
                )
            }
        }
    }

    /// Every finding, a blank line after each, then the summary; empty when clean.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for finding in &self.items {
            out.push_str(&self.render_finding(finding));
            out.push_str("\n\n");
        }
        if !self.items.is_empty() {
            out.push_str(&self.summary());
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl<'a> IntoIterator for &'a Findings {
    type Item = &'a Finding;
    type IntoIter = std::slice::Iter<'a, Finding>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// How far down a finding goes because it is mostly the consequence of
/// others: what is left unconnected or unused after a misspelled or missing
/// endpoint. These come after every other finding, a server that is never
/// used before its unconnected terminals; everything else is 0.
fn consequence(code: Code) -> u8 {
    match code {
        Code::UnusedServer => 1,
        Code::UnconnectedInput | Code::UnconnectedOutput => 2,
        _ => 0,
    }
}

/// A span that is inside `source` and on char boundaries, whatever it was.
fn clamp(source: &str, span: &Range<usize>) -> Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(source.len());
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = fix(span.start);
    let end = fix(span.end).max(start);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_rustc() {
        let source = "[[connections]]\nfrom = \"intake.readings\"\nto = [\"a.raw\", \"b.raw\"]\n";
        let start = source.rfind("[\"").unwrap_or(0);
        let end = source.rfind(']').unwrap_or(0) + 1;
        let finding = Finding::new(
            Code::FanOutWithoutMultiplexer,
            start..end,
            "output `intake.readings` has 2 consumers but is not a multiplexer",
        )
        .label("2 consumers")
        .help("declare `readings` as `Multiplex<f64>` in `Sensor`, or keep one consumer");
        let findings = Findings::new("wiring.toml", source, vec![finding]);
        let text = findings.render();
        assert!(
            text.starts_with("error[E0301]: output `intake.readings`"),
            "{text}"
        );
        assert!(text.contains(" --> wiring.toml:3:6"), "{text}");
        assert!(text.contains("^^^^^^^^^^^^^^^^^^ 2 consumers"), "{text}");
        assert!(text.contains("= help: declare `readings`"), "{text}");
        assert!(text.ends_with("error: could not wire `wiring.toml` due to 1 previous error\n"));
    }

    #[test]
    fn names_round_trip() {
        for code in Code::ALL {
            assert_eq!(Code::from_name(code.name()), Some(code));
            assert_eq!(Code::from_name(code.as_str()), Some(code));
        }
        assert_eq!(Code::from_name("nope"), None);
    }

    #[test]
    fn spans_are_clamped() {
        let finding = Finding::new(Code::Syntax, 5..900, "x");
        let findings = Findings::new("w", "é", vec![finding]);
        assert_eq!(findings.iter().next().map(|f| f.span.clone()), Some(2..2));
        let _ = findings.render();
    }
}
