#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod core;

pub mod admin;

#[cfg(feature = "bundle")]
pub mod bundle;

#[cfg(all(feature = "wasm", target_arch = "wasm32"))]
pub mod wasm;

#[cfg(feature = "cli")]
pub mod cli;

#[cfg(feature = "server")]
pub mod server;

pub use crate::core::{
    Code, Explanation, FieldState, Input, Mode, Policy, PolicyError, PolicyErrors, RequestError,
    Session, Subject,
};
