//! The WASM engine and its JavaScript package: build the two modules (the
//! engine, and the regex module clients load only for snapshots with
//! `matches` clauses) for `wasm32-unknown-unknown` with the `wasm-release`
//! profile (LTO, `opt-level = 3`), generate the wasm-bindgen packages
//! (`nodejs` and `web`), and lay the web ones into `sdk-wasm/js/wasm/` for
//! the TypeScript client. No `wasm-opt`: it made the module smaller raw but
//! larger gzipped (docs/performance.md). `cargo xtask wasm` runs these;
//! `cargo xtask ci` runs them as steps, then the package's tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::tools::{self, cargo, command, output_of, repo_root, run, target_dir};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
pub const WASM_PROFILE: &str = "wasm-release";
pub const WASM_CRATE: &str = "vexil-wasm";
/// The regex module's crate (`sdk-wasm/regex`).
pub const REGEX_CRATE: &str = "vexil-wasm-regex";
/// The modules wasm-bindgen's `web` packages load, and the JS package ships.
const MODULE_FILES: [&str; 2] = ["vexil_wasm_bg.wasm", "vexil_wasm_regex_bg.wasm"];
/// `cargo xtask wasm`: everything the JS package needs before `npm run build`.
pub fn wasm() -> Result<()> {
    run(command(tools::tool("rustup")).args(["target", "add", WASM_TARGET]))?;
    let wasm_bindgen = ensure_wasm_bindgen_cli()?;
    build_module()?;
    generate_packages(&wasm_bindgen)?;
    npm_ci()?;
    copy_into_js_package()?;
    report_size()
}

/// [`wasm`], then the JS package's own build (`dist/`): what the UI imports
/// for its in-browser preview.
pub fn js_package() -> Result<()> {
    wasm()?;
    run(command("npm").args(["run", "build"]).current_dir(js_dir()))
}

/// The two modules: crate, and the file name rustc writes.
const MODULES: [(&str, &str); 2] = [
    (WASM_CRATE, "vexil_wasm"),
    (REGEX_CRATE, "vexil_wasm_regex"),
];

/// Builds both modules, one `cargo build` each: built together, the regex
/// module's features would unify into the engine's and link a regex engine
/// into it.
pub fn build_module() -> Result<()> {
    for (krate, _) in MODULES {
        run(cargo().args([
            "build",
            "-p",
            krate,
            "--target",
            WASM_TARGET,
            "--profile",
            WASM_PROFILE,
        ]))?;
    }
    Ok(())
}

/// Installs `wasm-bindgen-cli` at exactly the version of the `wasm-bindgen`
/// crate in `Cargo.lock` (the CLI refuses a module built by another version)
/// unless that version is already installed. Returns the CLI's path.
pub fn ensure_wasm_bindgen_cli() -> Result<PathBuf> {
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

/// Runs `wasm-bindgen` on both modules' release builds, once for Node
/// (`require`, the smoke test) and once for the web (ES modules; the JS
/// package and the UI).
pub fn generate_packages(wasm_bindgen: &Path) -> Result<()> {
    for (_, name) in MODULES {
        let module = target_dir()
            .join(WASM_TARGET)
            .join(WASM_PROFILE)
            .join(format!("{name}.wasm"));
        if !module.is_file() {
            bail!("{} was not built", module.display());
        }
        bindgen(wasm_bindgen, &module)?;
    }
    Ok(())
}

fn bindgen(wasm_bindgen: &Path, module: &Path) -> Result<()> {
    for target in ["nodejs", "web"] {
        let out_dir = pkg_dir().join(target);
        run(command(wasm_bindgen)
            .arg(module)
            .args([
                "--target",
                target,
                "--remove-name-section",
                "--remove-producers-section",
                "--out-dir",
            ])
            .arg(&out_dir))?;
    }
    Ok(())
}

/// `npm ci` in the JS package (TypeScript, the OpenFeature web SDK, `ws`
/// for the tests' scripted server).
pub fn npm_ci() -> Result<()> {
    run(command("npm").arg("ci").current_dir(js_dir()))
}

/// Copies the web package into `sdk-wasm/js/wasm/`, where the client imports it.
pub fn copy_into_js_package() -> Result<()> {
    let from = pkg_dir().join("web");
    let to = js_dir().join("wasm");
    std::fs::create_dir_all(&to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(&from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Prints the shipped modules' sizes, raw and gzipped (`gzip -9`).
pub fn report_size() -> Result<()> {
    for file in MODULE_FILES {
        let module = js_dir().join("wasm").join(file);
        let raw = std::fs::metadata(&module)
            .with_context(|| format!("{} is missing", module.display()))?
            .len();
        let gzipped = gzipped_len(&module)?;
        println!(
            "{file}: {:.1} KiB, {:.1} KiB gzipped (-9)",
            raw as f64 / 1024.0,
            gzipped as f64 / 1024.0
        );
    }
    Ok(())
}

fn gzipped_len(path: &Path) -> Result<usize> {
    let output = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .context("could not run gzip")?;
    if !output.status.success() {
        bail!("gzip failed on {}", path.display());
    }
    Ok(output.stdout.len())
}

pub fn pkg_dir() -> PathBuf {
    target_dir().join("wasm-pkg")
}

pub fn js_dir() -> PathBuf {
    repo_root().join("sdk-wasm").join("js")
}
