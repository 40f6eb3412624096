//! Signals raised to this very process: every listener gets every
//! delivery, on any thread; bad signals are rejected.
//!
//! Each test uses its own signal, and installs its listeners before
//! raising it (the default action of most signals ends the process).
//! Dispositions are process-wide, so these tests live in one binary.

// Unix only: Unix signals.
#![cfg(unix)]

use std::future::{poll_fn, Future};
use std::io::ErrorKind;
use std::pin::pin;
use std::task::Poll;

use moduvex_runtime::signal::ctrl_c;
use moduvex_runtime::signal::unix::{signal, SignalKind};

/// Sends `sig` to this process.
fn raise(sig: i32) {
    // SAFETY: raise(3) sends a signal to the calling thread; the callers installed a listener (so a handler) for `sig` first.
    let rc = unsafe { libc::raise(sig) };
    assert_eq!(rc, 0, "raise({sig}) failed");
}

#[moduvex_runtime::test]
async fn one_listener_receives_each_of_two_deliveries() {
    let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    raise(libc::SIGUSR1);
    assert_eq!(usr1.recv().await, Some(()));
    raise(libc::SIGUSR1);
    assert_eq!(usr1.recv().await, Some(()));
    raise(libc::SIGUSR1);
    assert_eq!(usr1.recv().await, Some(()));
}

#[moduvex_runtime::test]
async fn every_listener_receives_every_delivery() {
    let mut a = signal(SignalKind::user_defined2()).unwrap();
    let mut b = signal(SignalKind::user_defined2()).unwrap();
    for _ in 0..3 {
        raise(libc::SIGUSR2);
        assert_eq!(a.recv().await, Some(()));
        assert_eq!(b.recv().await, Some(()));
    }
}

#[test]
fn listeners_on_other_threads_and_runtimes_are_woken() {
    let kind = SignalKind::window_change();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let mut listener = signal(kind).unwrap();
            let ready_tx = ready_tx.clone();
            std::thread::spawn(move || {
                moduvex_runtime::block_on(async move {
                    // Park first, so the wake-up really crosses threads.
                    let mut recv = pin!(listener.recv());
                    poll_fn(|cx| {
                        assert!(recv.as_mut().poll(cx).is_pending());
                        Poll::Ready(())
                    })
                    .await;
                    ready_tx.send(()).unwrap();
                    recv.await
                })
            })
        })
        .collect();
    for _ in 0..3 {
        ready_rx.recv().unwrap();
    }
    raise(libc::SIGWINCH);
    for t in threads {
        assert_eq!(t.join().unwrap(), Some(()));
    }
}

#[moduvex_runtime::test]
async fn a_burst_completes_recv_and_a_later_delivery_completes_it_again() {
    let mut hup = signal(SignalKind::hangup()).unwrap();
    for _ in 0..5 {
        raise(libc::SIGHUP);
    }
    hup.recv().await;
    // Drain whatever the burst left (deliveries coalesce, so there may be
    // fewer completions than signals), then a fresh one must still arrive.
    loop {
        let drained = poll_fn(|cx| Poll::Ready(hup.poll_recv(cx).is_ready())).await;
        if !drained {
            break;
        }
    }
    raise(libc::SIGHUP);
    assert_eq!(hup.recv().await, Some(()));
}

#[moduvex_runtime::test]
async fn a_listener_made_after_a_delivery_waits_for_the_next_one() {
    // A signal no other test here raises, whose default action would be
    // harmless: a real-time one on Linux, SIGURG (ignored) elsewhere.
    #[cfg(target_os = "linux")]
    let rt = libc::SIGRTMIN() + 2;
    #[cfg(not(target_os = "linux"))]
    let rt = libc::SIGURG;
    let mut early = signal(SignalKind::from_raw(rt)).unwrap();
    raise(rt);
    early.recv().await;
    let mut late = signal(SignalKind::from_raw(rt)).unwrap();
    let pending = poll_fn(|cx| Poll::Ready(late.poll_recv(cx).is_pending())).await;
    assert!(pending, "the earlier delivery is not replayed");
    raise(rt);
    assert_eq!(late.recv().await, Some(()));
    assert_eq!(early.recv().await, Some(()));
}

#[moduvex_runtime::test]
async fn ctrl_c_completes_on_sigint() {
    let mut ctrl_c = pin!(ctrl_c());
    // The first poll installs the listener.
    poll_fn(|cx| {
        assert!(ctrl_c.as_mut().poll(cx).is_pending());
        Poll::Ready(())
    })
    .await;
    raise(libc::SIGINT);
    ctrl_c.await.unwrap();
}

/// The largest signal number: real-time signals end at SIGRTMAX on Linux
/// and at 126 on FreeBSD; macOS has none (NSIG is 32).
#[cfg(target_os = "linux")]
fn max_signal() -> i32 {
    libc::SIGRTMAX()
}
#[cfg(target_os = "freebsd")]
fn max_signal() -> i32 {
    126
}
#[cfg(target_vendor = "apple")]
fn max_signal() -> i32 {
    31
}

#[test]
fn uncatchable_faulting_and_out_of_range_signals_are_invalid_input() {
    let cases = [
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGSTOP, "SIGSTOP"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGBUS, "SIGBUS"),
        (0, "0"),
        (-1, "-1"),
        (max_signal() + 1, &(max_signal() + 1).to_string()),
        (i32::MAX, &i32::MAX.to_string()),
    ];
    for (signum, name) in cases {
        let err = signal(SignalKind::from_raw(signum)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "signal {signum}");
        let msg = err.to_string();
        assert!(msg.contains(name), "message {msg:?} should name {name}");
    }
}

#[test]
fn signal_kinds_map_to_their_numbers() {
    let kinds = [
        (SignalKind::interrupt(), libc::SIGINT),
        (SignalKind::terminate(), libc::SIGTERM),
        (SignalKind::hangup(), libc::SIGHUP),
        (SignalKind::quit(), libc::SIGQUIT),
        (SignalKind::user_defined1(), libc::SIGUSR1),
        (SignalKind::user_defined2(), libc::SIGUSR2),
        (SignalKind::child(), libc::SIGCHLD),
        (SignalKind::alarm(), libc::SIGALRM),
        (SignalKind::pipe(), libc::SIGPIPE),
        (SignalKind::window_change(), libc::SIGWINCH),
    ];
    for (kind, raw) in kinds {
        assert_eq!(kind.as_raw_value(), raw);
        assert_eq!(SignalKind::from_raw(raw), kind);
        assert_eq!(i32::from(kind), raw);
    }
    assert_eq!(SignalKind::terminate().to_string(), "SIGTERM (signal 15)");
    assert_eq!(
        format!("{:?}", SignalKind::interrupt()),
        "SignalKind(SIGINT)"
    );
}

#[test]
fn signal_streams_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<moduvex_runtime::signal::unix::Signal>();
}
