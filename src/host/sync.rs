//! Locks that stay usable after a panic: a handler that panicked while holding one leaves
//! data that every writer keeps whole (each write is a single assignment or insert), so the
//! server goes on rather than failing every later request on the poisoned lock.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// `lock`, `read` and `write` that take a poisoned lock as it is.
pub trait Unpoisoned<T> {
    /// The guard of a `Mutex`.
    fn locked(&self) -> MutexGuard<'_, T>;
}

impl<T> Unpoisoned<T> for Mutex<T> {
    fn locked(&self) -> MutexGuard<'_, T> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `read` and `write` of an `RwLock` that take a poisoned lock as it is.
pub trait UnpoisonedRw<T> {
    /// A read guard.
    fn reading(&self) -> RwLockReadGuard<'_, T>;
    /// A write guard.
    fn writing(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T> UnpoisonedRw<T> for RwLock<T> {
    fn reading(&self) -> RwLockReadGuard<'_, T> {
        self.read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn writing(&self) -> RwLockWriteGuard<'_, T> {
        self.write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
