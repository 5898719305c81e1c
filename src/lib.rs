#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[macro_use]
mod codes;

pub mod core;

#[cfg(feature = "std")]
pub mod admin;

#[cfg(feature = "bundle")]
pub mod bundle;

#[cfg(all(feature = "wasm", target_arch = "wasm32"))]
pub mod wasm;

mod prelude;

#[cfg(feature = "host")]
pub mod host;

#[cfg(feature = "cli")]
pub mod cli;

#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "compile")]
pub use crate::core::Checked;
pub use crate::core::{
    Code, Explanation, FieldState, Input, Mode, Policy, PolicyError, PolicyErrors, RequestError,
    Session, Subject, MAX_VERSION,
};
