//! Strings the library hands out, and the one function that frees them.

use std::ffi::{CString, c_char};

use crate::capi::guard::{cstring_lossy, guard_value};

/// An owned C string for `incluster_string_free` to take back.
pub(crate) fn owned_string(s: &str) -> *mut c_char {
    cstring_lossy(s).into_raw()
}

/// Free a string the library returned as `char *`: from `incluster_whoami`, `incluster_can_i`
/// (its reason), `incluster_watch_resource_version`, `incluster_json_get_string`,
/// `incluster_response_get_string`, `incluster_watch_event_get_string` and
/// `incluster_jsonpath` and `incluster_client_source`. NULL is a no-op. Strings returned as `const char *` are borrowed
/// from their object and must not be passed here. Thread-safe (for distinct strings).
///
/// # Safety
/// `s` is NULL or a `char *` string from one of those functions, freed at most once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_string_free(s: *mut c_char) {
    guard_value((), || {
        if !s.is_null() {
            // SAFETY: made by `CString::into_raw` in `owned_string`, freed once per the
            // contract.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}
