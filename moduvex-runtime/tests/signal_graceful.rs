//! The `graceful` example end to end: a child process runs its server, gets
//! SIGTERM while a request is in flight, answers it, and exits 0.
//!
//! The child is this test binary itself, re-executed with an environment
//! variable that makes `graceful_child` run the example's `serve`.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[allow(dead_code)]
#[path = "../examples/graceful.rs"]
mod graceful;

const CHILD_ENV: &str = "MODUVEX_GRACEFUL_CHILD";

/// A failsafe so a broken server fails the test instead of hanging it; no
/// assertion depends on how long anything takes.
const FAILSAFE: Duration = Duration::from_secs(60);

/// In the child process: runs the example's server. Elsewhere: nothing.
#[test]
fn graceful_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let config = graceful::Config {
        addr: "127.0.0.1:0".to_string(),
        grace: Duration::from_secs(30),
    };
    moduvex_runtime::block_on(graceful::serve(config)).expect("server failed");
}

/// Kills the child if the test fails before it exits.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Forwards the child's stdout lines to a channel.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits for a stdout line containing `needle` and returns it.
fn expect_line(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    loop {
        match lines.recv_timeout(FAILSAFE) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => continue,
            Err(e) => panic!("child never printed {needle:?}: {e}"),
        }
    }
}

#[test]
fn sigterm_answers_the_in_flight_request_and_exits_0() {
    let exe = std::env::current_exe().unwrap();
    let child = Command::new(exe)
        .args([
            "graceful_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("re-execute the test binary");
    let mut child = Reap(child);
    let lines = lines_of(&mut child.0);

    let listening = expect_line(&lines, "listening on ");
    let addr: SocketAddr = listening
        .rsplit("listening on ")
        .next()
        .unwrap()
        .trim()
        .parse()
        .expect("an address after `listening on`");

    // A request that is answered normally, then one left half-sent: it is
    // in flight when the signal arrives.
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(FAILSAFE)).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    conn.write_all(b"first\n").unwrap();
    let mut answer = String::new();
    reader.read_line(&mut answer).unwrap();
    assert_eq!(answer, "first\n");
    // The log is in order: after the first answer's line, the next
    // "request started" is the second request's.
    expect_line(&lines, "answered");
    conn.write_all(b"sec").unwrap();
    expect_line(&lines, "request started");

    // SAFETY: kill(2) with a live child's pid and a valid signal number.
    let rc = unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    expect_line(&lines, "shutting down on SIGTERM: 1 connection(s) open");

    // No longer accepting: the listening socket is closed.
    let refused = TcpStream::connect(addr).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);

    // The in-flight request is still answered, then the server hangs up.
    conn.write_all(b"ond\n").unwrap();
    answer.clear();
    reader.read_line(&mut answer).unwrap();
    assert_eq!(answer, "second\n");
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "nothing after the last answer");

    expect_line(&lines, "all connections finished");
    let status = child.0.wait().unwrap();
    assert!(status.success(), "child exited with {status}");
}
