#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod core;

#[cfg(feature = "bundle")]
pub mod bundle;

#[cfg(feature = "cli")]
pub mod cli;

pub use crate::core::{
    Code, Explanation, FieldState, Input, Mode, Policy, PolicyError, PolicyErrors, RequestError,
    Session, Subject,
};
