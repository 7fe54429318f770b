//! Typed handles: how a pointer from C becomes a Rust reference, how a value is handed to C,
//! and how it is freed, written once (after rustls-ffi's `Castable`).
//!
//! Every opaque type is created by `Box::into_raw` and freed by `Box::from_raw`; [`Handle`]
//! ties both ends to the type, so a pointer can only be freed as what it was made as, and a
//! NULL always becomes `INCLUSTER_ERR_NULL_ARGUMENT` naming the parameter. Out-parameters go
//! through [`Out`], checked before any work starts and written only on success.

use std::ptr::NonNull;

use crate::capi::guard::{Failure, guard_value};

/// A type handed to C as an opaque pointer made from a `Box`.
pub(crate) trait Handle: Sized {
    /// The parameter name in messages about a NULL handle of this type.
    const PARAM: &'static str;

    /// Borrow a required handle argument: NULL is `INCLUSTER_ERR_NULL_ARGUMENT` naming it.
    ///
    /// # Safety
    /// `p` is NULL or a live pointer of this type from this library, not freed while `'a`
    /// lasts.
    unsafe fn arg<'a>(p: *const Self) -> Result<&'a Self, Failure> {
        // SAFETY: NULL or live per the caller's contract.
        unsafe { p.as_ref() }.ok_or(Failure::Null(Self::PARAM))
    }

    /// Borrow a required handle argument mutably, as [`Handle::arg`].
    ///
    /// # Safety
    /// As for [`Handle::arg`], and no other reference to `*p` exists while `'a` lasts (the C
    /// contract: the object is owned by the calling thread).
    unsafe fn arg_mut<'a>(p: *mut Self) -> Result<&'a mut Self, Failure> {
        // SAFETY: NULL or live and unaliased per the caller's contract.
        unsafe { p.as_mut() }.ok_or(Failure::Null(Self::PARAM))
    }

    /// Borrow an optional handle, for accessors where NULL has a documented answer.
    ///
    /// # Safety
    /// As for [`Handle::arg`].
    unsafe fn opt<'a>(p: *const Self) -> Option<&'a Self> {
        // SAFETY: NULL or live per the caller's contract.
        unsafe { p.as_ref() }
    }

    /// Move the value to the heap and hand its pointer out; [`Handle::free`] takes it back.
    fn into_raw(self) -> *mut Self {
        Box::into_raw(Box::new(self))
    }

    /// Free a handle made by [`Handle::into_raw`]; NULL is a no-op. Never unwinds.
    ///
    /// # Safety
    /// `p` is NULL or a pointer of this type from this library, freed at most once, with no
    /// call using it still running.
    unsafe fn free(p: *mut Self) {
        guard_value((), || {
            if !p.is_null() {
                // SAFETY: made by `into_raw` (Box::into_raw) for this very type, and freed once
                // per the caller's contract.
                drop(unsafe { Box::from_raw(p) });
            }
        })
    }
}

/// A required out-parameter, checked for NULL before the work starts; [`Out::write`] is the
/// only way to store through it, so outputs are written only on success.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// Check a required out-pointer; NULL is `INCLUSTER_ERR_NULL_ARGUMENT` naming `name`.
    ///
    /// # Safety
    /// `p` is NULL or points to writable storage for one `T` for as long as the `Out` lives.
    pub(crate) unsafe fn new(p: *mut T, name: &'static str) -> Result<Self, Failure> {
        NonNull::new(p).map(Out).ok_or(Failure::Null(name))
    }

    /// An optional out-pointer: NULL gives `None` (the caller did not ask for that output).
    ///
    /// # Safety
    /// As for [`Out::new`].
    pub(crate) unsafe fn optional(p: *mut T) -> Option<Self> {
        NonNull::new(p).map(Out)
    }

    /// Store the output. The old value is overwritten, not dropped (it is the caller's
    /// uninitialised storage).
    pub(crate) fn write(&self, value: T) {
        // SAFETY: non-NULL (checked in `new`) and writable per `new`'s contract.
        unsafe { self.0.as_ptr().write(value) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing(String);

    impl Handle for Thing {
        const PARAM: &'static str = "thing";
    }

    #[test]
    fn a_handle_round_trips_and_a_null_one_names_its_parameter() {
        let p = Thing("x".into()).into_raw();
        // SAFETY: `p` was just made by `into_raw` and is freed below, after the last use.
        let name = unsafe { Thing::arg(p) }.map(|t| t.0.clone());
        assert!(matches!(name.as_deref(), Ok("x")));
        // SAFETY: NULL is allowed.
        match unsafe { Thing::arg(std::ptr::null()) } {
            Err(Failure::Null(n)) => assert_eq!(n, "thing"),
            _ => panic!("NULL was not refused"),
        }
        // SAFETY: made by `into_raw`, freed once; NULL is a no-op.
        unsafe {
            Thing::free(p);
            Thing::free(std::ptr::null_mut());
        }
    }

    #[test]
    fn out_writes_only_through_a_checked_pointer() {
        let mut slot = 0i64;
        // SAFETY: `slot` is writable and outlives `out`.
        let out = unsafe { Out::new(&mut slot, "out") };
        match out {
            Ok(out) => out.write(7),
            Err(_) => panic!("a valid pointer was refused"),
        }
        assert_eq!(slot, 7);
        // SAFETY: NULL is allowed.
        let null = unsafe { Out::<i64>::new(std::ptr::null_mut(), "n") };
        assert!(matches!(null, Err(Failure::Null("n"))));
        // SAFETY: NULL is allowed.
        assert!(unsafe { Out::<i64>::optional(std::ptr::null_mut()) }.is_none());
    }
}
