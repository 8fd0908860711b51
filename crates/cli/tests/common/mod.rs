//! A real `wangge serve` process on a free port, stopped when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running server: the process and its base URL.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `wangge serve` over the store at `db` and waits for its ready line.
pub fn serve(db: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["serve", "--bind", "127.0.0.1:0", "--web", "/nonexistent-web-dir"])
        .env("DATABASE_URL", db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting wangge serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("reading the ready line");
    let base =
        line.trim().strip_prefix("wangge listening on ").unwrap_or_else(|| panic!("unexpected: {line}")).to_string();
    Server { child, base }
}
