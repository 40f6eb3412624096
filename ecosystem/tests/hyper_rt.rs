//! The runtime hooks alone: `HyperTimer` on a paused clock (reset in place,
//! never early), `HyperExecutor` spawning `Send` futures on the current
//! runtime and refusing outside one, and `serve` over a `UnixListener`.

mod hyper_common;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_lite::future::poll_once;
use http::StatusCode;
use hyper::rt::{Executor, Timer};
use hyper_common::*;
use moduvex_runtime::hyper::{serve, ConnectInfo, HyperExecutor, HyperIo, HyperTimer};
use moduvex_runtime::net::{UnixListener, UnixStream};
use moduvex_runtime::time;

fn paused<T>(fut: impl Future<Output = T>) -> T {
    moduvex_runtime::Builder::new_current_thread()
        .start_paused(true)
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

fn addr_of(sleep: &Pin<Box<dyn hyper::rt::Sleep>>) -> *const () {
    (&**sleep as *const dyn hyper::rt::Sleep).cast()
}

#[test]
fn timer_sleeps_follow_the_paused_clock_and_reset_in_place() {
    paused(async {
        let timer = HyperTimer::new();
        let start = timer.now();
        let mut sleep = timer.sleep(Duration::from_secs(60));
        assert!(poll_once(sleep.as_mut()).await.is_none());

        // Later: the same allocation, not due at the old deadline.
        let before = addr_of(&sleep);
        timer.reset(&mut sleep, start + Duration::from_secs(120));
        assert_eq!(addr_of(&sleep), before, "reset allocated a new sleep");
        time::advance(Duration::from_secs(90)).await;
        assert!(
            poll_once(sleep.as_mut()).await.is_none(),
            "fired at its old deadline"
        );
        time::advance(Duration::from_secs(30)).await;
        assert!(poll_once(sleep.as_mut()).await.is_some());

        // A completed sleep runs again after a reset; earlier works too.
        timer.reset(&mut sleep, timer.now() + Duration::from_secs(10));
        assert!(poll_once(sleep.as_mut()).await.is_none());
        timer.reset(&mut sleep, timer.now());
        assert!(poll_once(sleep.as_mut()).await.is_some());

        // `sleep_until` and `now` use the runtime's (paused) clock.
        let until = timer.sleep_until(timer.now() + Duration::from_secs(5));
        until.await;
        assert!(timer.now() >= start + Duration::from_secs(125));
    });
}

/// A sleep from some other timer.
struct Foreign;

impl Future for Foreign {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

impl hyper::rt::Sleep for Foreign {}

#[test]
fn reset_replaces_a_sleep_made_by_another_timer() {
    paused(async {
        let timer = HyperTimer::new();
        let mut sleep: Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(Foreign);
        timer.reset(&mut sleep, timer.now() + Duration::from_secs(1));
        assert!(!sleep.is::<Foreign>());
        sleep.await; // ours now: the paused clock gets there
    });
}

#[test]
fn executor_spawns_send_futures_on_the_current_runtime() {
    guard("executor", || {
        run(async {
            let (tx, rx) = moduvex_runtime::sync::oneshot::channel();
            let exec = HyperExecutor::new();
            let copy = exec; // `Copy + Clone`, as hyper's builders want
            copy.execute(async move {
                moduvex_runtime::task::yield_now().await;
                tx.send(std::thread::current().name().map(str::to_owned))
                    .unwrap();
            });
            let name = rx.await.unwrap();
            assert!(
                name.unwrap_or_default().starts_with("moduvex"),
                "ran off the runtime"
            );
            let _ = exec;
        })
    });
}

#[test]
#[should_panic(expected = "`spawn` called outside a moduvex runtime")]
fn executor_outside_a_runtime_panics_saying_so() {
    HyperExecutor::new().execute(async {});
}

#[test]
fn serve_over_a_unix_listener() {
    guard("unix", || {
        run(async {
            let dir = std::env::temp_dir().join(format!("moduvex-hyper-{}", std::process::id()));
            let _ = std::fs::remove_file(&dir);
            let listener = UnixListener::bind(&dir).unwrap();
            let svc = Svc::new(|req: http::Request<hyper::body::Incoming>| async move {
                let peer = req
                    .extensions()
                    .get::<ConnectInfo<moduvex_runtime::net::unix::SocketAddr>>()
                    .map(|ConnectInfo(a)| a.is_unnamed());
                text(StatusCode::OK, format!("unix peer unnamed: {peer:?}"))
            });
            moduvex_runtime::spawn(serve(listener, svc));
            let stream = UnixStream::connect(&dir).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(HyperIo::new(stream))
                .await
                .unwrap();
            moduvex_runtime::spawn(conn);
            let got = send(&mut sender, get("/")).await;
            assert_eq!(
                got,
                (StatusCode::OK, "unix peer unnamed: Some(true)".into())
            );
            let _ = std::fs::remove_file(&dir);
        })
    });
}

#[test]
fn the_tcp_listener_hands_serve_nodelay_streams() {
    guard("nodelay", || {
        run(async {
            use moduvex_runtime::hyper::Listener;
            let mut listener = moduvex_runtime::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let addr = Listener::local_addr(&listener).unwrap();
            let client = moduvex_runtime::net::TcpStream::connect(addr)
                .await
                .unwrap();
            let (io, peer) = Listener::accept(&mut listener).await.unwrap();
            assert!(io.nodelay().unwrap());
            assert_eq!(peer, client.local_addr().unwrap());
        })
    });
}
