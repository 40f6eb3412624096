//! `moduvex_runtime::stream`'s channel wrappers, as tokio-stream's:
//! `BroadcastStream` (values and `Lagged`, ends when the senders are gone),
//! `WatchStream` (the current value first, then each change; or only the
//! changes), `ReceiverStream`/`UnboundedReceiverStream` (end when the
//! senders are gone or on `close`); and the cooperative budget: a loop
//! over an always-ready stream still lets a sibling task run.
//!
//! Scenarios that wait on another task run under a hang guard (20 s).
#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future::poll_once;
use futures_lite::StreamExt;
use moduvex_runtime::stream::{
    BroadcastStream, BroadcastStreamRecvError, IntervalStream, ReceiverStream, Stream,
    UnboundedReceiverStream, WatchStream,
};
use moduvex_runtime::sync::{broadcast, mpsc, watch};
use moduvex_runtime::{block_on, spawn, time};

/// Runs `f` on a helper thread and fails if it has not finished after 20 s.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std_mpsc::channel();
    let thread = std::thread::spawn(move || {
        let out = f();
        let _ = tx.send(());
        out
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) | Err(std_mpsc::RecvTimeoutError::Disconnected) => {}
        Err(std_mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: not finished after 20 s (a wake-up was lost)")
        }
    }
    match thread.join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

#[test]
fn broadcast_stream_reports_lag_then_goes_on_and_ends_with_the_senders() {
    block_on(async {
        let (tx, rx) = broadcast::channel(2);
        let mut stream = BroadcastStream::new(rx);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        // Capacity 2: 0, 1 and 2 were overwritten before the first read.
        assert_eq!(
            stream.next().await,
            Some(Err(BroadcastStreamRecvError::Lagged(3)))
        );
        assert_eq!(stream.next().await, Some(Ok(3)));
        assert_eq!(stream.next().await, Some(Ok(4)));
        assert!(
            poll_once(stream.next()).await.is_none(),
            "nothing new: pending"
        );
        tx.send(5).unwrap();
        drop(tx);
        // What is retained still comes out, then the end.
        assert_eq!(stream.next().await, Some(Ok(5)));
        assert_eq!(stream.next().await, None);
        assert_eq!(
            BroadcastStreamRecvError::Lagged(3).to_string(),
            "channel lagged by 3"
        );
    });
}

#[test]
fn broadcast_stream_wakes_on_a_send_from_another_task_and_frees_its_slot() {
    guarded("BroadcastStream wake", || {
        block_on(async {
            let (tx, rx) = broadcast::channel::<u32>(4);
            let mut stream = BroadcastStream::from(rx);
            // Waits first (registers), then a sibling sends.
            let tx2 = tx.clone();
            let sender = spawn(async move {
                moduvex_runtime::yield_now().await;
                tx2.send(7).unwrap();
            });
            assert_eq!(stream.next().await, Some(Ok(7)));
            sender.await.unwrap();
            // A stream dropped while it waits leaves the channel clean.
            let mut waiting = BroadcastStream::new(tx.subscribe());
            assert!(poll_once(waiting.next()).await.is_none());
            drop(waiting);
            assert_eq!(tx.send(8).unwrap(), 1, "only `stream` is subscribed");
            assert_eq!(stream.next().await, Some(Ok(8)));
        })
    });
}

#[test]
fn watch_stream_yields_the_current_value_first_then_each_change() {
    guarded("WatchStream", || {
        block_on(async {
            let (tx, rx) = watch::channel(0);
            let mut stream = WatchStream::new(rx);
            assert_eq!(stream.next().await, Some(0), "the current value first");
            assert!(poll_once(stream.next()).await.is_none(), "no change yet");
            tx.send(1).unwrap();
            assert_eq!(stream.next().await, Some(1));
            // Changes between two polls coalesce into the latest value.
            tx.send(2).unwrap();
            tx.send(3).unwrap();
            assert_eq!(stream.next().await, Some(3));
            // A change from another task wakes the waiting stream.
            let tx = Arc::new(tx);
            let t = tx.clone();
            let sender = spawn(async move {
                moduvex_runtime::yield_now().await;
                t.send(4).unwrap();
            });
            assert_eq!(stream.next().await, Some(4));
            sender.await.unwrap();
            drop(tx);
            assert_eq!(stream.next().await, None, "the sender is gone");
            assert_eq!(stream.next().await, None);
        })
    });
}

#[test]
fn watch_stream_from_changes_skips_the_current_value() {
    block_on(async {
        let (tx, rx) = watch::channel("init");
        let mut changes = WatchStream::from_changes(rx.clone());
        assert!(poll_once(changes.next()).await.is_none(), "init is seen");
        tx.send("next").unwrap();
        assert_eq!(changes.next().await, Some("next"));
        // A receiver that has not seen the latest value yields it at once.
        let mut unseen = rx.clone();
        unseen.mark_changed();
        assert_eq!(WatchStream::from_changes(unseen).next().await, Some("next"));
        // `new` on a closed channel: the current value, then the end.
        drop(tx);
        let mut closed = WatchStream::new(rx);
        assert_eq!(closed.next().await, Some("next"));
        assert_eq!(closed.next().await, None);
    });
}

#[test]
fn receiver_streams_end_when_the_senders_are_dropped() {
    guarded("ReceiverStream", || {
        block_on(async {
            let (tx, rx) = mpsc::channel(4);
            let mut stream = ReceiverStream::new(rx);
            let producer = spawn(async move {
                for i in 0..10 {
                    tx.send(i).await.unwrap();
                }
            });
            let got: Vec<i32> = (&mut stream).collect().await;
            assert_eq!(got, (0..10).collect::<Vec<_>>());
            producer.await.unwrap();
            assert_eq!(stream.size_hint(), (0, Some(0)));

            let (utx, urx) = mpsc::unbounded_channel();
            let mut ustream = UnboundedReceiverStream::from(urx);
            utx.send(1).unwrap();
            utx.send(2).unwrap();
            assert_eq!(ustream.size_hint(), (2, None));
            drop(utx);
            assert_eq!(ustream.size_hint(), (2, Some(2)));
            assert_eq!(ustream.next().await, Some(1));
            assert_eq!(ustream.next().await, Some(2));
            assert_eq!(ustream.next().await, None);
        })
    });
}

#[test]
fn receiver_stream_close_stops_senders_and_drains() {
    block_on(async {
        let (tx, rx) = mpsc::channel(4);
        tx.send("queued").await.unwrap();
        let permit = tx.reserve().await.unwrap();
        let mut stream = ReceiverStream::new(rx);
        stream.close();
        assert!(tx.try_send("late").is_err(), "closed: sends fail");
        // Bounds count the reserved slot, as tokio-stream's.
        assert_eq!(stream.size_hint(), (1, Some(2)));
        permit.send("reserved");
        assert_eq!(stream.next().await, Some("queued"));
        assert_eq!(stream.next().await, Some("reserved"));
        assert_eq!(stream.next().await, None);
        let rx = stream.into_inner();
        assert!(rx.is_closed());
    });
}

/// Spawns a sibling task that raises the returned flag when it runs.
fn sibling() -> Arc<AtomicBool> {
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    spawn(async move { r.store(true, Ordering::SeqCst) });
    ran
}

/// Far more items than one poll's budget (128).
const ITEMS: usize = 1000;

/// Pulls `ITEMS` items from `stream`, each made ready by `prepare` just
/// before (or already), with a sibling spawned first; true if the sibling
/// ran meanwhile (the loop yielded).
async fn sibling_ran_during<S: Stream + Unpin>(stream: &mut S, mut prepare: impl FnMut()) -> bool {
    let ran = sibling();
    for _ in 0..ITEMS {
        prepare();
        assert!(stream.next().await.is_some());
    }
    ran.load(Ordering::SeqCst)
}

#[test]
fn always_ready_streams_yield_to_a_sibling() {
    let mut failed = Vec::new();
    block_on(async {
        let (tx, rx) = mpsc::unbounded_channel();
        for i in 0..ITEMS {
            tx.send(i).unwrap();
        }
        if !sibling_ran_during(&mut UnboundedReceiverStream::new(rx), || {}).await {
            failed.push("UnboundedReceiverStream");
        }

        let (tx, rx) = broadcast::channel(ITEMS);
        for i in 0..ITEMS {
            tx.send(i).unwrap();
        }
        if !sibling_ran_during(&mut BroadcastStream::new(rx), || {}).await {
            failed.push("BroadcastStream");
        }

        let (tx, rx) = watch::channel(0);
        let mut i = 0;
        let send = || {
            i += 1;
            tx.send(i).unwrap();
        };
        if !sibling_ran_during(&mut WatchStream::from_changes(rx), send).await {
            failed.push("WatchStream");
        }
    });
    // Ticks already due (the paused clock moved past a thousand periods)
    // are always ready too.
    let rt = moduvex_runtime::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut ticks = IntervalStream::new(time::interval(Duration::from_millis(1)));
        time::advance(Duration::from_millis(ITEMS as u64 + 1)).await;
        if !sibling_ran_during(&mut ticks, || {}).await {
            failed.push("IntervalStream");
        }
    });
    assert!(failed.is_empty(), "never yielded to a sibling: {failed:?}");
}
