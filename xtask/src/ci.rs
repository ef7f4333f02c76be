//! `cargo xtask ci`: everything CI checks, in order, failing fast.
//!
//! CI runs this in a fresh clone with `CI=true`, so every tool it needs is
//! installed here (the WASM target, `wasm-bindgen-cli` at the version in
//! `Cargo.lock`) rather than assumed to be on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::tools::{self, cargo, command, output_of, repo_root, run, target_dir};

/// Test databases the storage suites of later issues read; a developer with
/// other servers sets these variables and they are left alone.
const TEST_SERVICES: [(&str, &str); 2] = [
    (
        "VEXIL_TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    ),
    ("VEXIL_TEST_REDIS_URL", "redis://127.0.0.1:6379"),
];

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const WASM_PROFILE: &str = "wasm-release";
const WASM_CRATE: &str = "vexil-wasm";
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
    let wasm_bindgen = steps.step("wasm-bindgen-cli", ensure_wasm_bindgen_cli)?;
    steps.step("wasm build", || {
        run(cargo().args([
            "build",
            "-p",
            WASM_CRATE,
            "--target",
            WASM_TARGET,
            "--profile",
            WASM_PROFILE,
        ]))
    })?;
    steps.step("wasm-bindgen", || generate_wasm_packages(&wasm_bindgen))?;
    steps.step("wasm smoke (node)", || {
        let package = wasm_pkg_dir().join("nodejs").join("vexil_wasm.js");
        run(command("node")
            .arg("-e")
            .arg(WASM_SMOKE_SCRIPT)
            .arg(package))
    })?;
    steps.step("wasm tests (node)", || {
        let runner = tools::cargo_bin_dir().join("wasm-bindgen-test-runner");
        run(cargo()
            .args(["test", "-p", WASM_CRATE, "--target", WASM_TARGET])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", runner))
    })?;

    let ui = repo_root().join("ui");
    if ui.join("package.json").is_file() {
        steps.step("ui install", || {
            run(command("npm").arg("ci").current_dir(&ui))
        })?;
        steps.step("ui build", || {
            run(command("npm").args(["run", "build"]).current_dir(&ui))
        })?;
        steps.step("ui test", || {
            run(command("npm").arg("test").current_dir(&ui))
        })?;
    } else {
        println!(
            "\n==> ui: skipped (no ui/package.json yet; the web UI arrives with the UI issue)"
        );
    }
    Ok(())
}

/// Installs `wasm-bindgen-cli` at exactly the version of the `wasm-bindgen`
/// crate in `Cargo.lock` (the CLI refuses a module built by another version)
/// unless that version is already installed. Returns the CLI's path.
fn ensure_wasm_bindgen_cli() -> Result<PathBuf> {
    let version = tools::locked_version("wasm-bindgen")?;
    let cli = tools::cargo_bin_dir().join("wasm-bindgen");
    let installed = output_of(Command::new(&cli).arg("--version"));
    let wanted = format!("wasm-bindgen {version}");
    if installed.as_deref() == Some(wanted.as_str()) {
        println!("{wanted} is installed at {}", cli.display());
        return Ok(cli);
    }
    println!(
        "installing wasm-bindgen-cli {version} (found: {})",
        installed.as_deref().unwrap_or("none")
    );
    let locked = run(cargo().args([
        "install",
        "--locked",
        "wasm-bindgen-cli",
        "--version",
        &version,
    ]));
    if let Err(error) = locked {
        // The CLI's own lock file can name a dependency version the registry
        // no longer serves (a yanked or withdrawn release); resolving afresh
        // still builds the same CLI version.
        println!("warning: {error:#}; retrying without --locked");
        run(cargo().args(["install", "wasm-bindgen-cli", "--version", &version]))?;
    }
    let now = output_of(Command::new(&cli).arg("--version"));
    if now.as_deref() != Some(wanted.as_str()) {
        bail!(
            "after installing, `{} --version` says {:?}, expected {wanted:?}",
            cli.display(),
            now
        );
    }
    Ok(cli)
}

/// Runs `wasm-bindgen` on the release build, once for Node and once for the
/// browser (the UI's bundler imports the `web` package).
fn generate_wasm_packages(wasm_bindgen: &Path) -> Result<()> {
    let module = target_dir()
        .join(WASM_TARGET)
        .join(WASM_PROFILE)
        .join("vexil_wasm.wasm");
    if !module.is_file() {
        bail!("{} was not built", module.display());
    }
    for target in ["nodejs", "web"] {
        let out_dir = wasm_pkg_dir().join(target);
        run(command(wasm_bindgen)
            .arg(&module)
            .args([
                "--target",
                target,
                "--remove-name-section",
                "--remove-producers-section",
                "--out-dir",
            ])
            .arg(&out_dir))?;
    }
    let size = std::fs::metadata(wasm_pkg_dir().join("web").join("vexil_wasm_bg.wasm"))
        .context("wasm-bindgen wrote no web package")?
        .len();
    println!("vexil_wasm_bg.wasm: {} KiB", size / 1024);
    Ok(())
}

fn wasm_pkg_dir() -> PathBuf {
    target_dir().join("wasm-pkg")
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
