//! Inputs that must be refused quickly, with their line: found by fuzzing the importer.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::path::{Path, PathBuf};

use keepalived_conf::{MemoryFiles, Options, import_from, parse_file};

fn files(list: &[(&str, String)]) -> MemoryFiles {
    let mut files = MemoryFiles::default();
    for (path, text) in list {
        files
            .files
            .insert(PathBuf::from(path), text.clone().into_bytes());
    }
    files
}

fn error_of(files: &MemoryFiles) -> String {
    match import_from(
        files,
        Path::new("/etc/keepalived/keepalived.conf"),
        &Options::default(),
    ) {
        Ok(import) => panic!("accepted: {}", import.toml),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_file_including_itself_is_refused_at_the_include_line() {
    let files = files(&[(
        "/etc/keepalived/keepalived.conf",
        "global_defs {\n}\ninclude keepalived.conf\n".to_owned(),
    )]);
    assert_eq!(
        error_of(&files),
        "/etc/keepalived/keepalived.conf:3: error: /etc/keepalived/keepalived.conf includes itself (through this line)"
    );
}

#[test]
fn includes_fanning_out_stop_at_the_file_limit_instead_of_reading_exponentially() {
    // Each file includes the next one twice: 2^20 reads without a limit.
    let mut list = vec![(
        "/etc/keepalived/keepalived.conf",
        "include f0.conf\ninclude f0.conf\n".to_owned(),
    )];
    let names: Vec<String> = (0..=20)
        .map(|i| format!("/etc/keepalived/f{i}.conf"))
        .collect();
    for (i, name) in names.iter().take(20).enumerate() {
        let next = format!("include f{}.conf\ninclude f{}.conf\n", i + 1, i + 1);
        list.push((name.as_str(), next));
    }
    list.push((names[20].as_str(), "vrrp_instance A {\n}\n".to_owned()));
    let started = std::time::Instant::now();
    let message = error_of(&files(&list));
    assert!(
        message.ends_with("error: more than 1000 files read through includes"),
        "{message}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn blocks_nested_too_deep_are_refused_at_the_first_too_deep_brace() {
    let text = "a {\n".repeat(100_000);
    let files = files(&[("/etc/keepalived/keepalived.conf", text)]);
    assert_eq!(
        error_of(&files),
        "/etc/keepalived/keepalived.conf:33: error: blocks nested deeper than 32"
    );
}

#[test]
fn memory_globs_match_within_one_directory_in_order() {
    let files = files(&[
        (
            "/etc/keepalived/keepalived.conf",
            "include conf.d/*.conf\n".to_owned(),
        ),
        (
            "/etc/keepalived/conf.d/b.conf",
            "vrrp_instance B {\n}\n".to_owned(),
        ),
        (
            "/etc/keepalived/conf.d/a.conf",
            "vrrp_instance A {\n}\n".to_owned(),
        ),
        (
            "/etc/keepalived/conf.d/sub/c.conf",
            "vrrp_instance C {\n}\n".to_owned(),
        ),
    ]);
    let mut warnings = Vec::new();
    let path = Path::new("/etc/keepalived/keepalived.conf");
    let statements = parse_file(&files, path, &Options::default(), &mut warnings).unwrap();
    let names: Vec<&str> = statements.iter().map(|s| s.args()[0].as_str()).collect();
    assert_eq!(names, ["A", "B"]);
}

#[test]
fn a_rule_or_route_giving_an_option_twice_is_not_carried() {
    let conf = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n    \
                virtual_ipaddress {\n        192.0.2.1/24\n    }\n    virtual_rules {\n        \
                to 192.0.2.0/24 lookup 124 lookup 100 prio 200\n        \
                from 198.51.100.0/24 table 100\n    }\n    virtual_routes {\n        \
                198.51.100.0/24 via 192.0.2.254 metric 5 preference 7\n    }\n}\n";
    let files = files(&[("/etc/keepalived/keepalived.conf", conf.to_owned())]);
    let path = Path::new("/etc/keepalived/keepalived.conf");
    let import = import_from(&files, path, &Options::default()).unwrap();
    assert!(
        import.toml.contains("from = \"198.51.100.0/24\""),
        "{}",
        import.toml
    );
    assert!(!import.toml.contains("table = 124"), "{}", import.toml);
    assert!(!import.toml.contains("metric = 5"), "{}", import.toml);
    let warnings: Vec<String> = import.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`lookup` is given twice")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`preference` is given twice")),
        "{warnings:?}"
    );
}

#[test]
fn a_vip_giving_label_or_scope_twice_keeps_the_last_as_keepalived_does() {
    let conf = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n    \
                virtual_ipaddress {\n        \
                192.0.2.1/24 label eth0:a label eth0:b scope host scope global\n    }\n}\n";
    let files = files(&[("/etc/keepalived/keepalived.conf", conf.to_owned())]);
    let path = Path::new("/etc/keepalived/keepalived.conf");
    let import = import_from(&files, path, &Options::default()).unwrap();
    assert!(
        import.toml.contains(
            "vips = [{ address = \"192.0.2.1/24\", label = \"eth0:b\", scope = \"global\" }]"
        ),
        "{}",
        import.toml
    );
    let warnings: Vec<String> = import.warnings.iter().map(ToString::to_string).collect();
    for key in ["label", "scope"] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(&format!("`{key}` is given twice"))),
            "{warnings:?}"
        );
    }
}
