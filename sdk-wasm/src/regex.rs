//! `matches` patterns through the regex module (`vexil-wasm-regex`), which
//! the JS client loads only for snapshots that use them. `installRegex`
//! hands this module the regex module's exports; from then on the engine
//! compiles and searches every pattern through them.

use std::cell::OnceCell;

use vexil_engine::{RegexHost, install_regex_host};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// What `installRegex` is given: `compile(pattern)` (a handle; throws
    /// an `Error` whose message says why a pattern does not compile),
    /// `isMatch(handle, address, len)` and `release(handle)`. `isMatch`
    /// gets the haystack as the address and length of its UTF-8 bytes in
    /// this module's memory (`engineMemory()`), so JavaScript copies bytes
    /// into the regex module and decodes nothing. The JS package's
    /// `loadRegex` builds it from the regex module's exports.
    #[derive(Debug, Clone)]
    pub type RegexModule;

    #[wasm_bindgen(method, catch, js_name = compile)]
    fn compile_pattern(this: &RegexModule, pattern: &str) -> Result<u32, JsValue>;

    #[wasm_bindgen(method, js_name = isMatch)]
    fn is_match(this: &RegexModule, handle: u32, address: u32, len: u32) -> bool;

    #[wasm_bindgen(method)]
    fn release(this: &RegexModule, handle: u32);
}

/// This module's `WebAssembly.Memory`, where `isMatch` addresses point.
#[wasm_bindgen(js_name = engineMemory)]
pub fn engine_memory() -> JsValue {
    wasm_bindgen::memory()
}

thread_local! {
    static MODULE: OnceCell<RegexModule> = const { OnceCell::new() };
}

/// Installs the regex module for every snapshot compiled afterwards; a
/// snapshot compiled before it keeps its `matches` flags failed closed
/// until `recompile()`. Later calls change nothing.
#[wasm_bindgen(js_name = installRegex)]
pub fn install_regex(module: RegexModule) {
    MODULE.with(|cell| {
        let _ = cell.set(module);
    });
    install_regex_host(RegexHost {
        compile,
        is_match,
        release,
    });
}

fn compile(pattern: &str) -> Result<u32, String> {
    MODULE.with(|cell| {
        let module = cell
            .get()
            .ok_or_else(|| "the regex module is not loaded".to_owned())?;
        module.compile_pattern(pattern).map_err(|thrown| {
            thrown
                .dyn_ref::<js_sys::Error>()
                .map(|error| String::from(error.message()))
                .unwrap_or_else(|| "the regex module failed".to_owned())
        })
    })
}

fn is_match(handle: u32, haystack: &str) -> bool {
    // Addresses are 32-bit in wasm32, the only target that installs this.
    let (Ok(address), Ok(len)) = (
        u32::try_from(haystack.as_ptr() as usize),
        u32::try_from(haystack.len()),
    ) else {
        return false;
    };
    MODULE.with(|cell| {
        cell.get()
            .is_some_and(|module| module.is_match(handle, address, len))
    })
}

fn release(handle: u32) {
    MODULE.with(|cell| {
        if let Some(module) = cell.get() {
            module.release(handle);
        }
    });
}
