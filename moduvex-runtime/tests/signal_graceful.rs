//! The `graceful` example end to end: a child process runs its server, gets
//! SIGTERM while a request is in flight (or still in the kernel's buffers),
//! answers it, and exits 0.
//!
//! The child is this test binary itself, re-executed with an environment
//! variable that makes `graceful_child` run the example's `serve`.

// Unix only: SIGTERM to a child process.
#![cfg(unix)]

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

/// Starts the example's server in a child process; its stdout lines and
/// address.
fn start_child() -> (Reap, mpsc::Receiver<String>, SocketAddr) {
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
    (child, lines, addr)
}

/// Sends `sig` to the child.
fn kill(child: &Reap, sig: libc::c_int) {
    // SAFETY: kill(2) with a live child's pid and a valid signal number.
    let rc = unsafe { libc::kill(child.0.id() as libc::pid_t, sig) };
    assert_eq!(rc, 0);
}

/// A client connection with a line reader.
fn connect(addr: SocketAddr) -> (TcpStream, BufReader<TcpStream>) {
    let conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(FAILSAFE)).unwrap();
    let reader = BufReader::new(conn.try_clone().unwrap());
    (conn, reader)
}

/// Reads one line, then expects the server to hang up (EOF, no reset).
fn expect_last_answer(reader: &mut BufReader<TcpStream>, want: &str) {
    let mut answer = String::new();
    reader.read_line(&mut answer).unwrap();
    assert_eq!(answer, want);
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "nothing after the last answer");
}

#[test]
fn sigterm_answers_the_in_flight_request_and_exits_0() {
    let (mut child, lines, addr) = start_child();

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

    kill(&child, libc::SIGTERM);
    expect_line(&lines, "shutting down on SIGTERM: 1 connection(s) open");

    // No longer accepting: the listening socket is closed.
    let refused = TcpStream::connect(addr).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);

    // The in-flight request is still answered, then the server hangs up.
    conn.write_all(b"ond\n").unwrap();
    expect_last_answer(&mut reader, "second\n");

    expect_line(&lines, "all connections finished");
    let status = child.0.wait().unwrap();
    assert!(status.success(), "child exited with {status}");
}

/// Requests the server has not read yet when the signal arrives, on an
/// accepted connection and on one still queued in the listener, are
/// answered, not reset. The server is stopped (SIGSTOP) while they are
/// sent and the signal raised, so both are in the kernel's buffers before
/// the server can see either.
#[test]
fn requests_waiting_in_the_kernel_when_the_signal_arrives_are_answered() {
    let (mut child, lines, addr) = start_child();

    // An accepted connection, idle after its first answer.
    let (mut accepted, mut accepted_reader) = connect(addr);
    accepted.write_all(b"one\n").unwrap();
    let mut answer = String::new();
    accepted_reader.read_line(&mut answer).unwrap();
    assert_eq!(answer, "one\n");

    kill(&child, libc::SIGSTOP);
    let mut status = 0;
    // WUNTRACED reports the stop and leaves the child to be reaped later.
    // SAFETY: waitpid(2) on our own child with a valid status pointer.
    let pid = unsafe { libc::waitpid(child.0.id() as libc::pid_t, &mut status, libc::WUNTRACED) };
    assert_eq!(pid, child.0.id() as libc::pid_t);
    assert!(
        libc::WIFSTOPPED(status),
        "child not stopped: status {status:#x}"
    );

    // While it is stopped: a request on the accepted connection, and a
    // new connection (the kernel completes its handshake and queues it)
    // with a request; then the signal, delivered when the child resumes.
    accepted.write_all(b"two\n").unwrap();
    let (mut queued, mut queued_reader) = connect(addr);
    queued.write_all(b"three\n").unwrap();
    kill(&child, libc::SIGTERM);
    kill(&child, libc::SIGCONT);

    expect_last_answer(&mut accepted_reader, "two\n");
    expect_last_answer(&mut queued_reader, "three\n");
    expect_line(&lines, "all connections finished");
    let status = child.0.wait().unwrap();
    assert!(status.success(), "child exited with {status}");
}
