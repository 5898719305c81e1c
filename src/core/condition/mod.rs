//! The condition language: parsed once at load, evaluated three-valued per request.
//!
//! `||`/`or` binds loosest, then `&&`/`and`, then `!`/`not`, then one comparison between two
//! values. See `docs/policy-format.md` for the full grammar.

mod expr;
#[cfg(feature = "compile")]
mod parse;
mod truth;

pub use expr::{
    CmpOp, Env, Expr, Ids, Junction, Operand, ParentTest, SlotTable, UserRef, UserValues,
};
#[cfg(feature = "compile")]
pub(crate) use parse::intern;
#[cfg(feature = "compile")]
pub use parse::{parse, ParseError, MAX_CONDITION_DEPTH, MAX_CONDITION_LEN};
pub use truth::Truth;

#[cfg(test)]
mod tests;
