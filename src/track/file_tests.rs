//! Tests of the file tracker (track/file.rs).
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::mpsc;

use super::*;

/// A scratch directory, unique per process and call, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "keepvip-track-file-{tag}-{}-{n}",
            std::process::id()
        ));
        std::fs::create_dir(&dir).unwrap();
        Scratch(dir)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start(path: &Path) -> (mpsc::Receiver<Report>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(16);
    (rx, spawn(TrackId(3), path.to_path_buf(), tx))
}

/// The next reported value, within `within`.
async fn next(rx: &mut mpsc::Receiver<Report>, within: Duration) -> Option<i64> {
    let report = tokio::time::timeout(within, rx.recv()).await.ok()??;
    assert_eq!(report.tracker, TrackId(3));
    match report.reading {
        Reading::Value(n) => Some(n),
        other => panic!("unexpected reading {other:?}"),
    }
}

const SOON: Duration = Duration::from_secs(1);

#[test]
fn parses_like_strtol_base_0() {
    let v = |t: &str| parse_value(t.as_bytes());
    assert_eq!(v("42"), FileValue::Value(42));
    assert_eq!(v("  \t\n42\n"), FileValue::Value(42));
    assert_eq!(v("-17"), FileValue::Value(-17));
    assert_eq!(v("+8"), FileValue::Value(8));
    assert_eq!(v("0x1f"), FileValue::Value(31));
    assert_eq!(v("-0X10"), FileValue::Value(-16));
    assert_eq!(v("010"), FileValue::Value(8));
    assert_eq!(v("09"), FileValue::Value(0));
    assert_eq!(v("0x"), FileValue::Value(0));
    assert_eq!(v("12 monkeys"), FileValue::Value(12));
    assert_eq!(v("1.5"), FileValue::Value(1));
    assert_eq!(v("2147483648"), FileValue::Value(2_147_483_648));
    assert_eq!(v("-2147483648"), FileValue::Value(-2_147_483_648));
    // Empty or blank: keepalived's zero-length read, 0 without a complaint.
    assert_eq!(v(""), FileValue::Value(0));
    assert_eq!(v(" \n\t"), FileValue::Value(0));
}

#[test]
fn garbage_and_out_of_range_are_unparsable_and_zero() {
    let texts = "abc|- 5|-|2147483649|-2147483649|99999999999999999999999";
    for text in texts.split('|') {
        let read = parse_value(text.as_bytes());
        assert!(matches!(read, FileValue::Unparsable(_)), "{text}: {read:?}");
        assert_eq!(read.as_value(), 0);
    }
}

#[test]
fn only_the_first_127_bytes_count() {
    let mut text = vec![b' '; 126];
    text.extend_from_slice(b"78");
    assert_eq!(parse_value(&text), FileValue::Value(7));
    let far = [vec![b' '; 127], b"5".to_vec()].concat();
    assert_eq!(parse_value(&far), FileValue::Value(0));
}

#[test]
fn read_value_tells_missing_from_unparsable() {
    let dir = Scratch::new("read");
    assert_eq!(read_value(&dir.file("none")), FileValue::Missing);
    assert_eq!(read_value(&dir.file("none/deeper")), FileValue::Missing);
    std::fs::write(dir.file("bad"), "x1").unwrap();
    assert!(matches!(
        read_value(&dir.file("bad")),
        FileValue::Unparsable(_)
    ));
    assert!(matches!(read_value(&dir.0), FileValue::Unparsable(_)));
    std::fs::write(dir.file("ok"), "-3\n").unwrap();
    assert_eq!(read_value(&dir.file("ok")), FileValue::Value(-3));
}

#[tokio::test]
async fn reports_at_start_and_on_write_negative_and_garbage() {
    let dir = Scratch::new("write");
    let path = dir.file("prio");
    std::fs::write(&path, "5\n").unwrap();
    let (mut rx, task) = start(&path);
    assert_eq!(next(&mut rx, SOON).await, Some(5));
    std::fs::write(&path, "9\n").unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(9));
    std::fs::write(&path, "-20\n").unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(-20));
    std::fs::write(&path, "up\n").unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(0));
    std::fs::write(&path, "-250\n").unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(-250));
    task.abort();
}

#[tokio::test]
async fn follows_replacement_by_rename() {
    let dir = Scratch::new("rename");
    let path = dir.file("prio");
    std::fs::write(&path, "1").unwrap();
    let (mut rx, task) = start(&path);
    assert_eq!(next(&mut rx, SOON).await, Some(1));
    for n in [2, 3] {
        let tmp = dir.file("prio.tmp");
        std::fs::write(&tmp, format!("{n}\n")).unwrap();
        assert_eq!(next(&mut rx, Duration::from_millis(200)).await, None);
        std::fs::rename(&tmp, &path).unwrap();
        assert_eq!(next(&mut rx, SOON).await, Some(n));
    }
    task.abort();
}

#[tokio::test]
async fn delete_reads_zero_and_is_logged_then_recreate() {
    let dir = Scratch::new("delete");
    // The test's thread runs the tracker too (current-thread runtime): its logs land here.
    let log = dir.file("log");
    let writer = std::fs::File::create(&log).unwrap();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false);
    let _guard = tracing::subscriber::set_default(subscriber.finish());
    let logged = || std::fs::read_to_string(&log).unwrap();
    let path = dir.file("prio");
    std::fs::write(&path, "4").unwrap();
    let (mut rx, task) = start(&path);
    assert_eq!(next(&mut rx, SOON).await, Some(4));
    // Another test thread may have registered the log's callsite while no subscriber
    // existed, racing our set_default: recompute, so this thread's subscriber is asked.
    tracing::callsite::rebuild_interest_cache();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(0));
    assert!(logged().contains("track_file missing"), "{}", logged());
    std::fs::write(&path, "6").unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(6));
    assert!(
        logged().contains("track_file readable again"),
        "{}",
        logged()
    );
    task.abort();
}

#[tokio::test]
async fn same_value_twice_is_one_report() {
    let dir = Scratch::new("same");
    let path = dir.file("prio");
    std::fs::write(&path, "3").unwrap();
    let (mut rx, task) = start(&path);
    assert_eq!(next(&mut rx, SOON).await, Some(3));
    std::fs::write(&path, "7").unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(7));
    // Written again with the same value (other text): read, not reported.
    std::fs::write(&path, "7\n").unwrap();
    std::fs::write(&path, " 7").unwrap();
    assert_eq!(next(&mut rx, Duration::from_millis(300)).await, None);
    std::fs::write(&path, "8").unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(8));
    assert_eq!(next(&mut rx, Duration::from_millis(200)).await, None);
    task.abort();
}

#[tokio::test]
async fn missing_at_start_reads_zero_then_follows_creation() {
    let dir = Scratch::new("late");
    let path = dir.file("prio");
    let (mut rx, task) = start(&path);
    assert_eq!(next(&mut rx, SOON).await, Some(0));
    // Created empty first, then written: the empty read is 0 again, so one report.
    let mut f = std::fs::File::create(&path).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    f.write_all(b"12\n").unwrap();
    drop(f);
    assert_eq!(next(&mut rx, SOON).await, Some(12));
    task.abort();
}

#[tokio::test]
async fn directory_created_later_is_watched_after_a_retry() {
    let dir = Scratch::new("nodir");
    let sub = dir.file("sub");
    let path = sub.join("prio");
    let (mut rx, task) = start(&path);
    assert_eq!(next(&mut rx, SOON).await, Some(0));
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(&path, "5").unwrap();
    let within = RETRY_EVERY + SOON;
    assert_eq!(next(&mut rx, within).await, Some(5));
    // Now watched: a write is seen at once.
    std::fs::write(&path, "6").unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(6));
    // The directory goes away: 0, and the watch waits for it again.
    std::fs::remove_dir_all(&sub).unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(0));
    task.abort();
}

#[tokio::test]
async fn symlink_target_writes_are_seen() {
    let dir = Scratch::new("link");
    let real_dir = dir.file("real");
    std::fs::create_dir(&real_dir).unwrap();
    let target = real_dir.join("value");
    std::fs::write(&target, "2").unwrap();
    let link = dir.file("prio");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (mut rx, task) = start(&link);
    assert_eq!(next(&mut rx, SOON).await, Some(2));
    std::fs::write(&target, "3").unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(3));
    // Re-pointing the link is followed, and so are writes to the new target.
    let other = dir.file("other");
    std::fs::write(&other, "4").unwrap();
    let tmp = dir.file("prio.new");
    std::os::unix::fs::symlink(&other, &tmp).unwrap();
    std::fs::rename(&tmp, &link).unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(4));
    std::fs::write(&other, "5").unwrap();
    assert_eq!(next(&mut rx, SOON).await, Some(5));
    task.abort();
}
