//! The JavaScript surface: `compile(pattern)` (a handle, or a thrown
//! `Error` whose message is the compile error), `isMatch(handle,
//! haystack)` and `release(handle)`. The engine module calls these through
//! the object `installRegex` was given.

use wasm_bindgen::prelude::*;

use crate::patterns;

/// Compiles a pattern; throws an `Error` with the reason it does not.
#[wasm_bindgen]
pub fn compile(pattern: &str) -> Result<u32, JsError> {
    patterns::compile(pattern).map_err(|message| JsError::new(&message))
}

/// Whether the pattern behind `handle` matches anywhere in `haystack`.
#[wasm_bindgen(js_name = isMatch)]
pub fn is_match(handle: u32, haystack: &str) -> bool {
    patterns::is_match(handle, haystack)
}

/// Frees a handle.
#[wasm_bindgen]
pub fn release(handle: u32) {
    patterns::release(handle);
}
