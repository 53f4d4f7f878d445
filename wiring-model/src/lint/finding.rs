//! One problem found in a wiring file, as data: where, what, and the most
//! likely fix. Rendering it is the build step's.

use std::ops::Range;

use super::{Code, Level};

/// One problem found in a wiring file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which lint found it (`E0301`, ...).
    pub code: Code,
    /// The lint's name (`code.name()`).
    pub name: &'static str,
    /// `error` or `warning`, after `[lints]` was applied.
    pub level: Level,
    /// The title line after `error[E0301]: `.
    pub message: String,
    /// Byte range in the wiring file of the offending text.
    pub span: Range<usize>,
    /// The text printed under the underline.
    pub label: String,
    /// Other places worth showing (`first connected here`), with their labels.
    pub secondary: Vec<(Range<usize>, String)>,
    /// `= help: ...`: the most likely fix.
    pub help: Option<String>,
    /// `= note: ...` lines.
    pub notes: Vec<String>,
}

impl Finding {
    /// A finding of `code` at its default level.
    pub fn new(code: Code, span: Range<usize>, message: impl Into<String>) -> Self {
        Finding {
            code,
            name: code.name(),
            level: code.default_level(),
            message: message.into(),
            span,
            label: String::new(),
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Sets the text printed under the underline.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Adds another place to show, with its label.
    pub fn secondary(mut self, span: Range<usize>, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    /// Sets the `= help:` line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a `= note:` line.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}
