//! `cargo xtask run`: build what the server needs and start it locally.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{Result, bail};

use crate::tools::{cargo, command, repo_root, run as run_command, target_dir};

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_DATA_DIR: &str = "./data";
const LOCAL_ADMIN: &str = "admin";
const PASSWORD_FILE: &str = "admin-password.txt";

/// The local admin's password: generated once per data directory (32 hex
/// digits from the OS's random source) and kept next to the database.
fn local_admin_password(data_dir: &std::path::Path) -> Result<String> {
    use std::io::Read as _;
    let file = data_dir.join(PASSWORD_FILE);
    if let Ok(existing) = std::fs::read_to_string(&file) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 12 {
            return Ok(existing);
        }
    }
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(data_dir)?;
    std::fs::write(&file, format!("{password}\n"))?;
    Ok(password)
}

pub fn run(server_args: Vec<String>) -> Result<()> {
    let ui = repo_root().join("ui");
    if ui.join("package.json").is_file() {
        // The UI's preview runs the engine in the browser: the JS SDK (and
        // its WebAssembly module) is built first.
        crate::wasm::js_package()?;
        if !ui.join("node_modules").join("@vexil").join("sdk").exists() {
            run_command(command("npm").arg("ci").current_dir(&ui))?;
        }
        run_command(command("npm").args(["run", "build"]).current_dir(&ui))?;
    }
    run_command(cargo().args(["build", "-p", "vexil-server", "--bin", "vexil"]))?;

    // Built once above; run the binary itself so Ctrl-C reaches the server.
    let mut serve = command(target_dir().join("debug").join("vexil"));
    serve.arg("serve");
    let data_dir = flag_value(&server_args, "--data-dir")
        .or_else(|| std::env::var("VEXIL_DATA_DIR").ok())
        .unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned());
    if !has_flag(&server_args, "--data-dir") && std::env::var_os("VEXIL_DATA_DIR").is_none() {
        serve.args(["--data-dir", DEFAULT_DATA_DIR]);
    }
    serve.args(&server_args);
    // The first admin of a fresh data directory: the server creates it only
    // while the database has no user, so the printed login stays valid.
    let login = if std::env::var_os("VEXIL_ADMIN_USERNAME").is_some() {
        None
    } else {
        let password = local_admin_password(std::path::Path::new(&data_dir))?;
        serve.env("VEXIL_ADMIN_USERNAME", LOCAL_ADMIN);
        serve.env("VEXIL_ADMIN_PASSWORD", &password);
        Some(password)
    };

    let address = ui_address(&server_args);
    println!();
    println!(
        "Vexil is starting (data directory: {DEFAULT_DATA_DIR} unless you passed --data-dir)."
    );
    println!("  UI:      {address}");
    println!("  health:  {address}healthz");
    println!("  API:     {address}api/docs");
    match &login {
        Some(password) => println!(
            "  login:   {LOCAL_ADMIN} / {password}   (kept in {data_dir}/{PASSWORD_FILE}; \
             created on the first start of an empty database)"
        ),
        None => println!("  login:   the admin from VEXIL_ADMIN_USERNAME / VEXIL_ADMIN_PASSWORD"),
    }
    println!("Stop with Ctrl-C.");
    println!();
    exec(serve)
}

/// Replaces this process with the server so Ctrl-C and SIGTERM reach it
/// directly and it shuts down gracefully.
#[cfg(unix)]
fn exec(mut command: std::process::Command) -> Result<()> {
    use std::os::unix::process::CommandExt as _;
    let error = command.exec();
    bail!("could not start the server: {error}")
}

#[cfg(not(unix))]
fn exec(mut command: std::process::Command) -> Result<()> {
    let status = command.status()?;
    if !status.success() {
        bail!("the server exited with {status}");
    }
    Ok(())
}

fn has_flag(args: &[String], flag: &str) -> bool {
    args.iter()
        .any(|arg| arg == flag || arg.starts_with(&format!("{flag}=")))
}

/// The address a browser should open: the `--listen` argument (or
/// `VEXIL_LISTEN`), with an unspecified host (`0.0.0.0`) shown as loopback.
fn ui_address(args: &[String]) -> String {
    let listen = flag_value(args, "--listen")
        .or_else(|| std::env::var("VEXIL_LISTEN").ok())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    match listen.parse::<SocketAddr>() {
        Ok(mut addr) => {
            if addr.ip().is_unspecified() {
                addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
            }
            format!("http://{addr}/")
        }
        Err(_) => format!("http://{listen}/"),
    }
}

fn flag_value(args: &[String], flag: &str) -> Option<String> {
    let prefix = format!("{flag}=");
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == flag {
            return iter.next().cloned();
        }
        if let Some(value) = arg.strip_prefix(&prefix) {
            return Some(value.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ui_address_follows_the_listen_argument() {
        assert_eq!(
            ui_address(&args(&["--listen", "127.0.0.1:9000"])),
            "http://127.0.0.1:9000/"
        );
        assert_eq!(
            ui_address(&args(&["--listen=0.0.0.0:80"])),
            "http://127.0.0.1:80/"
        );
    }

    #[test]
    fn finds_flags_in_both_spellings() {
        assert!(has_flag(&args(&["--data-dir", "x"]), "--data-dir"));
        assert!(has_flag(&args(&["--data-dir=x"]), "--data-dir"));
        assert!(!has_flag(&args(&["--listen", "x"]), "--data-dir"));
    }
}
