//! Running commands, with the project's tool folders on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// PATH with the project-local tool folders first (npm's binaryen, cargo's bin).
pub fn path_env() -> String {
    let mut dirs = vec![root().join(".tools/npm/node_modules/.bin")];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    let mut parts: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    if let Ok(old) = std::env::var("PATH") {
        parts.push(old);
    }
    parts.join(":")
}

/// A command run in the workspace root with the project's PATH.
pub fn command(program: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(root()).env("PATH", path_env());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs a command to completion; fails unless it exits 0.
pub fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result {
    eprintln!("$ {program} {}", args.join(" "));
    let status = command(program, args, env)
        .status()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{program} {} failed: {status}", args.join(" ")))
    }
}

/// The cargo that runs xtask (so that a pinned toolchain carries over), else `cargo`.
pub fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

pub fn cargo(args: &[&str]) -> Result {
    run(&cargo_program(), args, &[])
}

/// Runs a command and returns its stdout, or None when it cannot run or fails.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = command(program, args, &[]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// True when `program` is on PATH (with the project's tool folders).
pub fn has(program: &str) -> bool {
    which(program).is_some()
}

/// Where `program` is on PATH (with the project's tool folders).
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&path_env())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}
