//! `cargo xtask ci`: everything CI checks, in order, failing fast.
//!
//! CI runs this in a fresh clone with `CI=true`, so every tool it needs is
//! installed here (the WASM target, `wasm-bindgen-cli` at the version in
//! `Cargo.lock`, the UI's npm packages, Debian's `chromium` for the UI's
//! browser tests) rather than assumed to be on the machine.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::tools::{self, cargo, command, repo_root, run, target_dir};
use crate::wasm::{self, WASM_CRATE, WASM_TARGET};

/// Test databases the storage suites of later issues read; a developer with
/// other servers sets these variables and they are left alone.
const TEST_SERVICES: [(&str, &str); 2] = [
    (
        "VEXIL_TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    ),
    ("VEXIL_TEST_REDIS_URL", "redis://127.0.0.1:6379"),
];

/// A Node script that loads the generated `nodejs` package and evaluates a
/// flag through it: the release artifact itself works, not just the tests.
const WASM_SMOKE_SCRIPT: &str = include_str!("wasm_smoke.js");

pub fn ci() -> Result<()> {
    let mut steps = Steps::default();
    let result = run_steps(&mut steps);
    steps.print_summary(result.is_ok());
    result
}

fn run_steps(steps: &mut Steps) -> Result<()> {
    steps.step("fmt", || {
        run(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    steps.step("clippy", || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    // `--workspace` builds the SDK without its optional OpenFeature provider.
    steps.step("clippy (sdk openfeature)", || {
        run(cargo().args([
            "clippy",
            "-p",
            "vexil-sdk",
            "--features",
            "openfeature",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    steps.step("test", || {
        let mut test = cargo();
        test.args(["test", "--workspace"]);
        for (name, default) in TEST_SERVICES {
            if std::env::var_os(name).is_none() {
                test.env(name, default);
            }
        }
        run(&mut test)
    })?;
    steps.step("test (sdk openfeature)", || {
        run(cargo().args(["test", "-p", "vexil-sdk", "--features", "openfeature"]))
    })?;

    steps.step("wasm target", || {
        run(command(tools::tool("rustup")).args(["target", "add", WASM_TARGET]))
    })?;
    // The engine without its `regex` feature (`pattern::host`) and the
    // regex module build only for wasm32: lint them there too.
    steps.step("clippy (wasm32)", || {
        run(cargo().args([
            "clippy",
            "-p",
            WASM_CRATE,
            "-p",
            wasm::REGEX_CRATE,
            "--target",
            WASM_TARGET,
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    let wasm_bindgen = steps.step("wasm-bindgen-cli", wasm::ensure_wasm_bindgen_cli)?;
    steps.step("wasm build", wasm::build_module)?;
    steps.step("wasm-bindgen", || wasm::generate_packages(&wasm_bindgen))?;
    steps.step("wasm smoke (node)", || {
        let packages = wasm::pkg_dir().join("nodejs");
        run(command("node")
            .arg("-e")
            .arg(WASM_SMOKE_SCRIPT)
            .arg(packages.join("vexil_wasm.js"))
            .arg(packages.join("vexil_wasm_regex.js")))
    })?;
    steps.step("wasm tests (node)", || {
        let runner = tools::cargo_bin_dir().join("wasm-bindgen-test-runner");
        run(cargo()
            .args(["test", "-p", WASM_CRATE, "--target", WASM_TARGET])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", runner))
    })?;

    // The TypeScript client, its tests against a scripted WebSocket server
    // and the real `vexil` binary.
    steps.step("sdk-js install", wasm::npm_ci)?;
    steps.step("sdk-js wasm", || {
        wasm::copy_into_js_package()?;
        wasm::report_size()
    })?;
    steps.step("sdk-js build", || {
        run(command("npm")
            .args(["run", "build"])
            .current_dir(wasm::js_dir()))
    })?;
    steps.step("vexil binary", || {
        run(cargo().args(["build", "-p", "vexil-server", "--bin", "vexil"]))
    })?;
    steps.step("sdk-js test", || {
        let vexil = target_dir().join("debug").join("vexil");
        run(command("npm")
            .arg("test")
            .current_dir(wasm::js_dir())
            .env("VEXIL_BIN", vexil))
    })?;

    let ui = repo_root().join("ui");
    if ui.join("package.json").is_file() {
        steps.step("ui install", || {
            run(command("npm").arg("ci").current_dir(&ui))
        })?;
        steps.step("ui check", || {
            run(command("npm").args(["run", "check"]).current_dir(&ui))
        })?;
        steps.step("ui build", || {
            run(command("npm").args(["run", "build"]).current_dir(&ui))
        })?;
        steps.step("ui test", || {
            run(command("npm").arg("test").current_dir(&ui))
        })?;
        // The server built with `ui/dist` serves it: index, assets, pages.
        steps.step("ui served", || {
            let mut test = cargo();
            test.args(["test", "-p", "vexil-server", "--test", "ui_served"]);
            run(&mut test)
        })?;
        steps.step("ui e2e (chromium)", || {
            let chromium = ensure_chromium()?;
            run(cargo().args(["build", "-p", "vexil-server", "--bin", "vexil"]))?;
            run(command("npm")
                .args(["run", "e2e"])
                .current_dir(&ui)
                .env("VEXIL_BIN", target_dir().join("debug").join("vexil"))
                .env("CHROMIUM", chromium))
        })?;
    } else {
        println!(
            "\n==> ui: skipped (no ui/package.json yet; the web UI arrives with the UI issue)"
        );
    }
    Ok(())
}

/// Debian's `chromium` for the UI's browser tests: the one on `PATH`, or
/// installed with `apt-get` (CI runs as root on a Debian machine).
fn ensure_chromium() -> Result<PathBuf> {
    let installed = PathBuf::from("/usr/bin/chromium");
    if installed.is_file() {
        return Ok(installed);
    }
    run(command("apt-get").args(["update", "-qq"]))?;
    run(command("apt-get")
        .args(["install", "-y", "-qq", "chromium"])
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    if !installed.is_file() {
        bail!(
            "apt-get installed chromium, but {} is missing",
            installed.display()
        );
    }
    Ok(installed)
}

/// The steps run so far and how long each took.
#[derive(Debug, Default)]
struct Steps {
    done: Vec<(&'static str, Duration)>,
    started: Option<Instant>,
}

impl Steps {
    fn step<T>(&mut self, name: &'static str, body: impl FnOnce() -> Result<T>) -> Result<T> {
        println!("\n==> {name}");
        let start = Instant::now();
        self.started.get_or_insert(start);
        let result = body();
        self.done.push((name, start.elapsed()));
        result.with_context(|| format!("CI step `{name}` failed"))
    }

    fn print_summary(&self, passed: bool) {
        println!("\nstep timings:");
        for (name, took) in &self.done {
            println!("  {name:<20} {:>8.1} s", took.as_secs_f64());
        }
        if let Some(started) = self.started {
            println!(
                "  {:<20} {:>8.1} s",
                "total",
                started.elapsed().as_secs_f64()
            );
        }
        match (passed, self.done.last()) {
            (true, _) => println!("ci: all steps passed"),
            (false, Some((name, _))) => println!("ci: FAILED at step `{name}`"),
            (false, None) => println!("ci: FAILED before the first step"),
        }
    }
}
