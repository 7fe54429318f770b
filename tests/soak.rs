//! Soak: 16 threads × 1,000 requests on one client while the token rotates every second (as
//! the kubelet does it: new token valid, file swapped, old token revoked) and 1% of the
//! requests have their connection dropped by the server before any answer. No caller sees a
//! failure (a dropped GET is retried on a new connection), and the resident memory is flat.

use incluster_testserver::harness as common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{SaDir, TestServer, status_kib, unique_dir};
use incluster::Client;

const THREADS: usize = 16;
const REQUESTS: usize = 1_000;
const ROUNDS: usize = 8;

#[test]
fn sixteen_threads_through_rotations_and_drops() {
    let s = TestServer::start(&["--token", "soak-0"]);
    let dir = unique_dir("soak");
    let sa = SaDir::new(&dir, "soak-0", &s.ca, "default");
    let c = Client::new(
        s.config()
            .with_token_file(sa.path.join("token"))
            .with_namespace("default"),
    )
    .unwrap();

    // Warm up (connection pool, TLS sessions, allocator arenas) before the first reading.
    for _ in 0..200 {
        c.get_json("/version").unwrap();
    }
    let before = status_kib("VmRSS");

    let failures = AtomicUsize::new(0);
    let dropped = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    // Four rounds of 16 threads × 250 requests; the resident memory is read after each.
    let mut rss = Vec::new();
    let barrier = std::sync::Barrier::new(THREADS + 1);
    let rotations = std::thread::scope(|scope| {
        // The same 16 threads for every round (new threads would bring new stacks and malloc
        // arenas and blur the reading); they meet at a barrier while the memory is read.
        let barrier = &barrier;
        for t in 0..THREADS {
            let (c, failures, dropped) = (&c, &failures, &dropped);
            scope.spawn(move || {
                for i in 0..REQUESTS {
                    // 1 request in 100: the server drops the connection once, unanswered.
                    let path = if i % 100 == 50 {
                        dropped.fetch_add(1, Ordering::Relaxed);
                        format!("/_test/drop?key=t{t}-{i}&times=1")
                    } else {
                        "/version".to_owned()
                    };
                    if let Err(e) = c.get_json(&path) {
                        eprintln!("thread {t} request {i}: {e}");
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    if (i + 1) % (REQUESTS / ROUNDS) == 0 {
                        barrier.wait(); // the round is over
                        barrier.wait(); // the memory was read
                    }
                }
            });
        }
        let rss = &mut rss;
        let rounds = scope.spawn(move || {
            for _ in 0..ROUNDS {
                barrier.wait();
                rss.push(status_kib("VmRSS"));
                barrier.wait();
            }
        });
        // The token rotates every second until the workers are done.
        let rotator = scope.spawn(|| {
            let mut n = 0;
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_secs(1));
                let (prev, next) = (format!("soak-{n}"), format!("soak-{}", n + 1));
                s.set_tokens(&[&prev, &next]);
                sa.rotate(&next);
                s.set_tokens(&[&next]);
                n += 1;
            }
            n
        });
        rounds.join().unwrap();
        finished.store(true, Ordering::Relaxed);
        rotator.join().unwrap()
    });
    eprintln!("{rotations} token rotations during the soak");
    assert!(rotations >= 1, "the soak ended before the first rotation");

    let after = status_kib("VmRSS");
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "calls failed (of {})",
        THREADS * REQUESTS
    );
    assert_eq!(dropped.load(Ordering::Relaxed), THREADS * REQUESTS / 100);
    // The requests log of the server shows the drops really happened: each dropped key was
    // asked for twice (dropped, then answered).
    let log = s.requests();
    let drops = log
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|t| t.starts_with("/_test/drop"))
        })
        .count();
    assert!(
        drops >= 2 * THREADS * REQUESTS / 100,
        "only {drops} drop requests reached the server"
    );
    // The first rounds grow the process to its working size (16 threads' stacks and malloc
    // arenas, 16 pooled TLS connections), and the allocator's footprint wobbles by a MiB or
    // two; a leak would make the second half of the rounds climb above the first half's peak.
    eprintln!("RSS {before} KiB before, after each round: {rss:?} KiB (final {after})");
    let first = rss[..ROUNDS / 2].iter().max().unwrap();
    let second = rss[ROUNDS / 2..].iter().max().unwrap();
    assert!(
        *second < first + 2 * 1024,
        "RSS climbed from a peak of {first} KiB to {second} KiB: {rss:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}
