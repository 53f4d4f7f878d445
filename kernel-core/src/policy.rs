//! How policy plugs into the mechanism: the core calls the [`Policy`]
//! hooks a kernel was given and keeps the state of policy crates as
//! [`Extensions`] of its connectome, but never imports a policy crate.
//!
//! A Hostess that books terminals, an HTTP control surface started with the
//! kernel, a mesh node stopped with it: each is a policy the facade (or the
//! user) adds with [`Kernel::add_policy`](crate::Kernel::add_policy).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::connectome::{Connectome, PipeSpec};

/// A boxed error from a policy, with its message as the policy wrote it.
pub type PolicyError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Hooks the kernel calls at fixed points of its life; every method has a
/// default that does nothing, so a policy implements only what it needs.
///
/// Hooks run on the kernel's threads: they must not block for long, and
/// never wait on the data plane.
pub trait Policy: Send + Sync + 'static {
    /// A short name for logs and errors (`hostess`, `control`, `mesh`).
    fn name(&self) -> &'static str;

    /// `Kernel::run` starts: before any server boots. An error stops the
    /// run before anything started.
    fn on_start(&self, connectome: &Connectome) -> Result<(), PolicyError> {
        let _ = connectome;
        Ok(())
    }

    /// A connection is about to be made at run time: `Err` refuses it with
    /// the reason, and nothing changes. Wired pipes were admitted by
    /// [`on_start`](Self::on_start).
    fn admit(&self, connectome: &Connectome, pipe: &PipeSpec) -> Result<(), PolicyError> {
        let _ = (connectome, pipe);
        Ok(())
    }

    /// A connection no longer holds its terminals (disconnected, closed,
    /// failed, or refused after it was admitted): give back what `admit` or
    /// `on_start` took for it. Called once per connection.
    fn release(&self, connectome: &Connectome, pipe: &PipeSpec) {
        let _ = (connectome, pipe);
    }

    /// True while the policy wants the kernel to keep running even when no
    /// server or process is left (an operator may still restart servers).
    fn keeps_kernel_up(&self, connectome: &Connectome) -> bool {
        let _ = connectome;
        false
    }

    /// `Kernel::run` ends, after every server and process ended.
    fn on_stop(&self, connectome: &Connectome) {
        let _ = connectome;
    }
}

/// State that policy crates keep per kernel, one value per type: the
/// Hostess of the kernel, the node of the mesh, the address of the control
/// surface. Cheap to read; values are shared as `Arc`s.
#[derive(Default)]
pub struct Extensions {
    values: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let values = self.values.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Extensions")
            .field("values", &values.len())
            .finish()
    }
}

impl Extensions {
    /// The value of type `T`, if one was inserted.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let values = self.values.read().unwrap_or_else(|e| e.into_inner());
        let value = values.get(&TypeId::of::<T>())?.clone();
        value.downcast::<T>().ok()
    }

    /// The value of type `T`, inserting `make()` first when there is none.
    pub fn get_or_insert_with<T: Any + Send + Sync>(&self, make: impl FnOnce() -> T) -> Arc<T> {
        if let Some(value) = self.get::<T>() {
            return value;
        }
        let mut values = self.values.write().unwrap_or_else(|e| e.into_inner());
        let value = values
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(make()))
            .clone();
        value
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("the map holds a `T` under `TypeId::of::<T>()`"))
    }

    /// Sets the value of type `T`, returning the one it replaces.
    pub fn insert<T: Any + Send + Sync>(&self, value: T) -> Option<Arc<T>> {
        let mut values = self.values.write().unwrap_or_else(|e| e.into_inner());
        values
            .insert(TypeId::of::<T>(), Arc::new(value))
            .and_then(|old| old.downcast::<T>().ok())
    }

    /// Removes the value of type `T`.
    pub fn remove<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let mut values = self.values.write().unwrap_or_else(|e| e.into_inner());
        values
            .remove(&TypeId::of::<T>())
            .and_then(|old| old.downcast::<T>().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type() {
        let ext = Extensions::default();
        assert!(ext.get::<u32>().is_none());
        assert_eq!(*ext.get_or_insert_with(|| 7u32), 7);
        assert_eq!(*ext.get_or_insert_with(|| 8u32), 7, "kept the first");
        assert_eq!(ext.insert(9u32).as_deref(), Some(&7));
        ext.insert(String::from("x"));
        assert_eq!(ext.get::<u32>().as_deref(), Some(&9));
        assert_eq!(
            ext.get::<String>().as_deref().map(String::as_str),
            Some("x")
        );
        assert_eq!(ext.remove::<u32>().as_deref(), Some(&9));
        assert!(ext.get::<u32>().is_none());
    }
}
