//! The JavaScript surface: `compile(pattern)` (a handle, or a thrown
//! `Error` whose message is the compile error), `release(handle)`, and a
//! copy-in search: `input(len)` makes room for a haystack in this module's
//! memory (`regexMemory()`), JavaScript copies the UTF-8 bytes there straight
//! from the engine module's memory, and `isMatchInput(handle, len)`
//! searches them. No string is decoded to JavaScript and encoded back, and
//! nothing is allocated per search: a `matches` clause costs two calls and
//! a byte copy. The JS package's `loadRegex` wires this up.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::patterns;

thread_local! {
    /// Where JavaScript writes the haystack of the next `isMatchInput`.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Compiles a pattern; throws an `Error` with the reason it does not.
#[wasm_bindgen]
pub fn compile(pattern: &str) -> Result<u32, JsError> {
    patterns::compile(pattern).map_err(|message| JsError::new(&message))
}

/// Frees a handle.
#[wasm_bindgen]
pub fn release(handle: u32) {
    patterns::release(handle);
}

/// This module's `WebAssembly.Memory`, which `input` addresses point into.
/// (Not `memory`: the module exports its memory under that name.)
#[wasm_bindgen(js_name = regexMemory)]
pub fn regex_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Makes room for a haystack of `len` bytes and returns its address in
/// this module's memory. The address stays valid until a later `input`
/// asks for more room.
#[wasm_bindgen]
pub fn input(len: u32) -> u32 {
    INPUT.with_borrow_mut(|input| {
        let len = len as usize;
        if input.len() < len {
            input.resize(len, 0);
        }
        // Addresses are 32-bit in wasm32, where this module runs.
        input.as_mut_ptr() as usize as u32
    })
}

/// Whether the pattern behind `handle` matches anywhere in the first `len`
/// bytes written at `input`'s address. Bytes that are not UTF-8, or more
/// than `input` made room for, match nothing.
#[wasm_bindgen(js_name = isMatchInput)]
pub fn is_match_input(handle: u32, len: u32) -> bool {
    INPUT.with_borrow(|input| {
        input
            .get(..len as usize)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .is_some_and(|haystack| patterns::is_match(handle, haystack))
    })
}
