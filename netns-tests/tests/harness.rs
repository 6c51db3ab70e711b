//! Self-tests of the namespace lab. Root only; run with `--test-threads=1`.
// Test code: a failed unwrap is a failed test (clippy.toml only covers #[test] fns, not helpers).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use netns_tests::frames::{IPPROTO_ICMP, ip_frames};
use netns_tests::kernel::{addresses, link_state};
use netns_tests::netns::list_netns;
use netns_tests::{HOST_IF, Ipv6Mode, Lab, in_netns, netns_with_prefix, wait_for};

#[test]
fn two_hosts_ping_and_the_observer_captures_icmp_in_order() {
    let lab = Lab::builder("ping").hosts(2).build().unwrap();
    let capture = lab.capture("icmp", &["icmp"]).unwrap();
    let target = lab.host(1).ipv4.to_string();
    let ping = lab
        .spawn_on(
            0,
            "ping",
            &["ping", "-c", "3", "-i", "0.2", "-W", "1", &target],
        )
        .unwrap();
    let status = ping.wait(Duration::from_secs(10)).unwrap();
    assert!(
        status.success(),
        "ping failed: {}{}",
        ping.stdout(),
        ping.stderr()
    );
    assert!(ping.stdout().contains("3 received"), "{}", ping.stdout());

    let frames = capture
        .wait_for_frames("6 ICMP frames", Duration::from_secs(5), |frames| {
            ip_frames(frames, IPPROTO_ICMP).len() >= 6
        })
        .unwrap();
    let icmp = ip_frames(&frames, IPPROTO_ICMP);
    assert_eq!(icmp.len(), 6, "{icmp:?}");
    let (a, b) = (IpAddr::V4(lab.host(0).ipv4), IpAddr::V4(lab.host(1).ipv4));
    for pair in icmp.chunks(2) {
        assert_eq!(
            (pair[0].src, pair[0].dst, pair[0].payload[0]),
            (a, b, 8),
            "echo request"
        );
        assert_eq!(
            (pair[1].src, pair[1].dst, pair[1].payload[0]),
            (b, a, 0),
            "echo reply"
        );
        assert_eq!(pair[0].eth_src, lab.host(0).mac);
        assert_eq!(pair[1].eth_src, lab.host(1).mac);
    }
    for pair in icmp.windows(2) {
        assert!(
            pair[0].timestamp < pair[1].timestamp,
            "timestamps must increase: {icmp:?}"
        );
    }
    // 0.2 s between pings: the kernel timestamps show it.
    let gap = icmp[2].timestamp - icmp[0].timestamp;
    assert!(
        gap >= Duration::from_millis(150) && gap < Duration::from_secs(2),
        "{gap:?}"
    );
    assert!(capture.decode().unwrap().contains("ICMP echo request"));
}

#[test]
fn address_query_shows_the_lab_addresses() {
    let lab = Lab::builder("addrs")
        .hosts(1)
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let host = lab.host(0);
    let found = addresses(&host.ns, HOST_IF).unwrap();
    let v4 = found
        .iter()
        .find(|a| a.address == IpAddr::V4(host.ipv4))
        .unwrap();
    assert_eq!((v4.prefix_len, v4.scope.as_str()), (24, "global"));
    let v6 = found
        .iter()
        .find(|a| Some(a.address) == host.ipv6.map(IpAddr::V6))
        .unwrap();
    assert_eq!(v6.prefix_len, 64);
    // accept_dad = 0: the link-local address exists at once and is not tentative.
    let ll = found
        .iter()
        .find(|a| Some(a.address) == host.link_local.map(IpAddr::V6))
        .unwrap_or_else(|| panic!("no link-local {:?} in {found:?}", host.link_local));
    assert_eq!((ll.scope.as_str(), ll.tentative), ("link", false));
    let (flags, operstate) = link_state(&host.ns, HOST_IF).unwrap();
    assert!(flags.iter().any(|f| f == "LOWER_UP"), "{flags:?}");
    assert_eq!(operstate, "UP");
}

#[test]
fn ipv6_off_leaves_no_link_local_and_dad_mode_starts_tentative() {
    let lab = Lab::builder("v6modes").hosts(1).build().unwrap();
    let found = addresses(&lab.host(0).ns, HOST_IF).unwrap();
    assert!(found.iter().all(|a| a.address.is_ipv4()), "{found:?}");
    drop(lab);

    let lab = Lab::builder("v6dad")
        .hosts(1)
        .ipv6(Ipv6Mode::Dad)
        .build()
        .unwrap();
    let host = lab.host(0);
    let ll = IpAddr::V6(host.link_local.unwrap());
    let first = addresses(&host.ns, HOST_IF).unwrap();
    let entry = first.iter().find(|a| a.address == ll).unwrap();
    assert!(
        entry.tentative,
        "right after link up the link-local is tentative: {first:?}"
    );
    let took = wait_for(
        "DAD to finish",
        Duration::from_secs(10),
        Duration::from_millis(20),
        || {
            addresses(&host.ns, HOST_IF)
                .map(|now| now.iter().any(|a| a.address == ll && !a.tentative))
                .unwrap_or(false)
        },
    )
    .unwrap();
    eprintln!("link-local left tentative state {took:?} after the lab was built");
}

#[test]
fn processes_are_signalled_waited_and_their_output_kept() {
    let lab = Lab::builder("procs").hosts(1).build().unwrap();
    let echo = lab
        .spawn_on(0, "echo", &["sh", "-c", "echo out; echo err >&2; exit 3"])
        .unwrap();
    let status = echo.wait(Duration::from_secs(5)).unwrap();
    assert_eq!(status.code(), Some(3));
    assert_eq!(
        (echo.stdout().as_str(), echo.stderr().as_str()),
        ("out\n", "err\n")
    );

    // A shell with a child: SIGTERM goes to the whole group.
    let sleeper = lab
        .spawn_on(0, "sleeper", &["sh", "-c", "sleep 30 & wait"])
        .unwrap();
    assert!(
        sleeper.wait(Duration::from_millis(200)).is_err(),
        "must still run"
    );
    sleeper.terminate().unwrap();
    let status = sleeper.wait(Duration::from_secs(5)).unwrap();
    assert!(!status.success());
    // The orphaned `sleep` is reaped by init shortly after: allow for that.
    let pgid = sleeper.pid().to_string();
    wait_for(
        "the process group to be gone",
        Duration::from_secs(5),
        Duration::from_millis(20),
        || {
            Command::new("pgrep")
                .args(["-g", &pgid])
                .output()
                .is_ok_and(|out| out.stdout.is_empty())
        },
    )
    .unwrap();

    // The process runs in the host namespace: it sees eth0 with the host address.
    let ip = lab
        .spawn_on(0, "ip", &["ip", "-br", "addr", "show", "dev", "eth0"])
        .unwrap();
    ip.wait(Duration::from_secs(5)).unwrap();
    assert!(ip.stdout().contains("192.0.2.1/24"), "{}", ip.stdout());
}

#[test]
fn in_netns_runs_code_inside_the_namespace() {
    let lab = Lab::builder("innetns").hosts(1).build().unwrap();
    // /proc/thread-self/net follows the thread's namespace (/proc/net follows the main thread's).
    let (inside, process_view) = in_netns(&lab.host(0).ns, || {
        let names = |text: String| -> Vec<String> {
            let lines = text.lines().skip(2);
            lines
                .filter_map(|line| line.split(':').next())
                .map(|n| n.trim().to_owned())
                .collect()
        };
        let inside = names(std::fs::read_to_string("/proc/thread-self/net/dev").unwrap());
        (
            inside,
            names(std::fs::read_to_string("/proc/net/dev").unwrap()),
        )
    })
    .unwrap();
    let mut inside = inside;
    inside.sort();
    assert_eq!(inside, ["eth0", "lo"]);
    let outside = std::fs::read_to_string("/proc/net/dev").unwrap();
    assert_eq!(
        process_view.len(),
        outside.lines().count() - 2,
        "the process view is the host's"
    );
    // A panic inside keeps its message.
    let caught = std::panic::catch_unwind(|| {
        in_netns(&lab.host(0).ns, || panic!("inside the namespace")).unwrap();
    })
    .unwrap_err();
    assert_eq!(caught.downcast_ref::<&str>(), Some(&"inside the namespace"));
}

#[test]
fn cleanup_deletes_namespaces_and_processes_when_the_test_panics() {
    let seen: Mutex<Option<(String, u32)>> = Mutex::new(None);
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let lab = Lab::builder("panics").hosts(2).build().unwrap();
        let sleeper = lab.spawn_on(1, "sleeper", &["sleep", "30"]).unwrap();
        *seen.lock().unwrap() = Some((lab.prefix().to_owned(), sleeper.pid()));
        assert_eq!(netns_with_prefix(lab.prefix()).unwrap().len(), 4);
        panic!("test body fails");
    }));
    assert!(outcome.is_err());
    let (prefix, pid) = seen.lock().unwrap().clone().unwrap();
    assert_eq!(netns_with_prefix(&prefix).unwrap(), Vec::<String>::new());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "sleep {pid} survived"
    );
    // The lab kept its output directory because it was dropped while panicking; this panic was planned.
    let kept = std::env::temp_dir().join("keepvip-netns").join(&prefix);
    assert!(kept.is_dir());
    std::fs::remove_dir_all(kept).unwrap();
}

#[test]
fn namespaces_of_a_dead_test_process_are_swept_by_the_next_lab() {
    let mut dead = Command::new("true").spawn().unwrap();
    dead.wait().unwrap();
    let stale = format!("kv{}t0stale-h0", dead.id());
    let status = Command::new("ip")
        .args(["netns", "add", &stale])
        .status()
        .unwrap();
    assert!(status.success());
    let lab = Lab::builder("sweeper").hosts(1).build();
    let left = list_netns().unwrap().contains(&stale);
    if left {
        let _ = Command::new("ip")
            .args(["netns", "delete", &stale])
            .status();
    }
    assert!(!left, "stale namespace {stale} was not swept");
    drop(lab);
}
