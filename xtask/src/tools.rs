//! Finding the repository and the tools, and running commands.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// The repository root (the workspace that holds `xtask/`).
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.to_path_buf())
}

/// Where `cargo install` puts binaries: `$CARGO_HOME/bin`, by default
/// `~/.cargo/bin`. CI may not have it on `PATH`, so tools installed there are
/// called by full path and the directory is prepended to children's `PATH`.
pub fn cargo_bin_dir() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("bin")
}

/// A tool by full path when it is installed in the cargo bin directory, by
/// bare name (looked up on `PATH`) otherwise.
pub fn tool(name: &str) -> PathBuf {
    let installed = cargo_bin_dir().join(name);
    if installed.is_file() {
        installed
    } else {
        PathBuf::from(name)
    }
}

/// The cargo that runs this xtask (cargo sets `$CARGO` for it).
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    command(cargo)
}

/// A command run from the repository root with the cargo bin directory first
/// on `PATH`.
pub fn command(program: impl Into<OsString>) -> Command {
    let mut command = Command::new(program.into());
    command.current_dir(repo_root());
    command.env("PATH", path_with_cargo_bin());
    command
}

fn path_with_cargo_bin() -> OsString {
    let mut paths = vec![cargo_bin_dir()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap_or_else(|_| std::env::var_os("PATH").unwrap_or_default())
}

/// Prints the command line, runs it, and fails when it does not exit 0.
pub fn run(command: &mut Command) -> Result<()> {
    println!("$ {}", display(command));
    let status = command
        .status()
        .with_context(|| format!("could not start `{}`", display(command)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", display(command));
    }
    Ok(())
}

/// Runs a command and returns its trimmed standard output, or `None` when it
/// cannot be started or fails (used to probe installed tools).
pub fn output_of(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The command line as a person would type it.
pub fn display(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(
        command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned()),
    );
    parts.join(" ")
}

/// The version of `package` recorded in `Cargo.lock`.
pub fn locked_version(package: &str) -> Result<String> {
    let lock_path = repo_root().join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("could not read {}", lock_path.display()))?;
    find_locked_version(&lock, package)
        .with_context(|| format!("`{package}` is not in {}", lock_path.display()))
}

fn find_locked_version(lock: &str, package: &str) -> Option<String> {
    let wanted = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim().strip_prefix("version = ")?;
            return Some(version.trim_matches('"').to_owned());
        }
    }
    None
}

/// Where cargo puts build output: `CARGO_TARGET_DIR`, or `target/` in the repo.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_locked_version_by_exact_name() {
        let lock = r#"
[[package]]
name = "wasm-bindgen-backend"
version = "0.2.99"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        assert_eq!(
            find_locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(find_locked_version(lock, "wasm-bindgen-cli"), None);
    }

    #[test]
    fn reads_this_workspace_lock() {
        assert!(locked_version("anyhow").is_ok());
    }
}
