//! What the command-line tests share: paths, scratch folders, running the tool, and
//! assertions on its output.
#![allow(dead_code)] // each test binary uses some of these

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("uisrnn-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The tool with `args`. Mesa's software Vulkan driver (the GPU in CI) prints
/// complaints on stderr when `XDG_RUNTIME_DIR` is unset, as in CI containers: give it
/// one, so that stderr holds only what the tool says.
pub fn command(args: &[&str]) -> Command {
    let runtime_dir = std::env::temp_dir().join(format!("uisrnn-cli-xdg-{}", std::process::id()));
    std::fs::create_dir_all(&runtime_dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_uisrnn"));
    command.args(args).env("XDG_RUNTIME_DIR", runtime_dir);
    command
}

pub fn uisrnn(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Asserts a non-zero exit with a one-line message containing `needle`.
pub fn fails_with(output: &Output, needle: &str) {
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Asserts a failure whose message is exactly one line naming `needle`.
pub fn fails_in_one_line(output: &Output, needle: &str) {
    fails_with(output, needle);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Besides the status line naming the device, the error is one line.
    let lines: Vec<&str> = stderr
        .trim_end()
        .lines()
        .filter(|line| !line.starts_with("device: "))
        .collect();
    assert_eq!(lines.len(), 1, "not one line: {stderr}");
}
