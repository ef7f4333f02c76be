//! Rebuilds the server when the web UI's build (`ui/dist`, embedded by
//! `rust-embed` in release builds) changes, including when files are added
//! or removed (Vite names them by content hash). Without `ui/dist` it
//! watches `ui/` so the first UI build is noticed.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let dist = std::path::Path::new("../ui/dist");
    if dist.is_dir() {
        println!("cargo:rerun-if-changed=../ui/dist");
    } else {
        println!("cargo:rerun-if-changed=../ui");
    }
}
