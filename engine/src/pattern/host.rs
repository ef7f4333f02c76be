//! `matches` patterns in builds without a regex engine: compiled and
//! searched by a host the embedder installs once (the WASM client installs
//! the `vexil-wasm-regex` module). Until one is installed, every pattern
//! fails to compile, so its flag fails closed (`PARSE_ERROR`) and
//! [`crate::CompiledSnapshot::errors`] says why.

use std::sync::OnceLock;

/// A regex engine outside this build. It must compile with
/// `vexil_proto::operand::compile_regex` (its limits, its error messages)
/// and match as the `regex` crate does, so that patterns behave exactly as
/// in native builds.
#[derive(Debug, Clone, Copy)]
pub struct RegexHost {
    /// Compiles a pattern: a handle, or why it does not compile.
    pub compile: fn(&str) -> Result<u32, String>,
    /// Whether the compiled pattern matches anywhere in the haystack.
    pub is_match: fn(u32, &str) -> bool,
    /// Frees a handle; called once, when no snapshot uses it any more.
    pub release: fn(u32),
}

static HOST: OnceLock<RegexHost> = OnceLock::new();

/// Why a pattern does not compile when no host is installed.
#[cfg(not(feature = "regex"))]
const NOT_INSTALLED: &str = "regular expressions are not available: the regex module is not loaded";

/// Installs the regex engine of a build without the `regex` feature, for
/// every snapshot compiled afterwards. Returns false, changing nothing,
/// when one is already installed or the build has its own engine.
pub fn install_regex_host(host: RegexHost) -> bool {
    !cfg!(feature = "regex") && HOST.set(host).is_ok()
}

/// A pattern compiled by the host, released when the last clause using it
/// is dropped.
#[cfg(not(feature = "regex"))]
#[derive(Debug)]
pub(crate) struct Pattern {
    handle: u32,
    host: RegexHost,
}

#[cfg(not(feature = "regex"))]
impl Pattern {
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let host = *HOST.get().ok_or_else(|| NOT_INSTALLED.to_owned())?;
        let handle = (host.compile)(pattern)?;
        Ok(Pattern { handle, host })
    }

    /// Whether the pattern matches anywhere in `haystack`.
    pub(crate) fn is_match(&self, haystack: &str) -> bool {
        (self.host.is_match)(self.handle, haystack)
    }
}

#[cfg(not(feature = "regex"))]
impl Drop for Pattern {
    fn drop(&mut self) {
        (self.host.release)(self.handle);
    }
}
