//! Kleene three-valued logic: a condition on a record that is not there is `Unknown`.

/// The value of a condition: true, false, or unknown (it reads a record that was not given).
/// Ordered `False < Unknown < True`: `and` is the minimum, `or` the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Truth {
    /// Certainly false.
    False,
    /// Depends on a record attribute that is not known.
    Unknown,
    /// Certainly true.
    True,
}

impl Truth {
    /// Logical and: false wins, then unknown.
    pub fn and(self, other: Truth) -> Truth {
        Ord::min(self, other)
    }

    /// Logical or: true wins, then unknown.
    pub fn or(self, other: Truth) -> Truth {
        Ord::max(self, other)
    }

    /// Logical not: unknown stays unknown.
    #[expect(
        clippy::should_implement_trait,
        reason = "named beside `and` and `or`, which have no operator traits; `!t` would read as a boolean"
    )]
    pub fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
            Truth::True => Truth::False,
        }
    }
}

impl From<bool> for Truth {
    fn from(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}
