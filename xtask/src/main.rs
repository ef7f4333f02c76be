//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo
//! does (the alias lives in `.cargo/config.toml`).
//!
//! - `cargo xtask run [-- server args]`: build what the server needs and start
//!   `vexil serve` on the embedded default storage.
//! - `cargo xtask wasm`: build the WASM engine and lay it into the JS
//!   package (`sdk-wasm/js/wasm/`), ready for `npm run build`.
//! - `cargo xtask ci`: everything CI checks, in order, failing fast.
//!
//! # Layout
//! - `main`: argument parsing and dispatch.
//! - `ci`: the CI steps (fmt, clippy, tests, the SDK with its `openfeature`
//!   feature, WASM build and tests, the JS package's build and tests, UI) and
//!   their timing summary.
//! - `run`: `cargo xtask run`, building and starting the server locally.
//! - `wasm`: the WASM modules (engine and regex; wasm-bindgen) and the JS
//!   package's copy of them; their sizes.
//! - `tools`: finding the repository, cargo and installed tools; running a
//!   command and reporting what failed; reading versions from `Cargo.lock`.

mod ci;
mod run;
mod tools;
mod wasm;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run [-- server args]   build and start the server (`vexil serve`) locally
  wasm                   build the WASM engine into sdk-wasm/js/wasm/
  ci                     run everything CI checks, in order, failing fast
  help                   print this message";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let result = match command.as_deref() {
        Some("run") => run::run(strip_separator(rest)),
        Some("ci") if rest.is_empty() => ci::ci(),
        Some("wasm") if rest.is_empty() => wasm::wasm(),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nxtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask run -- --listen ...` passes a literal `--` through; drop it.
fn strip_separator(mut args: Vec<String>) -> Vec<String> {
    if args.first().map(String::as_str) == Some("--") {
        args.remove(0);
    }
    args
}
