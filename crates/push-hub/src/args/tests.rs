//! The flags' parsing: defaults, lists, environment variables, keys from files.

use super::*;

#[test]
fn defaults_need_no_flag() {
    let args = Args::defaults();
    assert_eq!(args.addr, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(args.history_age, Duration::from_secs(600));
    assert_eq!(args.total_history_bytes, 256 << 20);
    assert!(args.jwt_key.is_empty() && !args.in_memory);
    assert_eq!(args.max_grant_selectors, 1000);
}

#[test]
fn flags_and_lists() {
    let args = Args::parse_from([
        "push-hub",
        "--addr",
        "[::1]:9000",
        "--cors-origin",
        "https://a.example",
        "--cors-origin",
        "https://b.example",
        "--trusted-proxy",
        "10.0.0.0/8",
        "--in-memory",
        "--overflow",
        "close",
    ]);
    assert_eq!(args.cors_origin.len(), 2);
    assert!(args.trusted_proxy[0].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
    assert!(args.in_memory);
    assert_eq!(args.overflow, OverflowArg::Close);
    assert!(Args::try_parse_from(["push-hub", "--tls-cert", "c.pem"]).is_err());
}

#[test]
fn every_flag_has_its_environment_variable() {
    let command = Args::command();
    let mut flags = 0;
    for arg in command.get_arguments() {
        let long = arg.get_long().expect("every flag is a long flag");
        let env = arg
            .get_env()
            .and_then(|env| env.to_str())
            .unwrap_or_default();
        assert_eq!(
            env,
            format!("PUSH_HUB_{}", long.replace('-', "_").to_uppercase())
        );
        flags += 1;
    }
    assert!(flags >= 38, "{flags} flags");
    let help = Args::command().render_long_help().to_string();
    assert!(
        help.contains("[env: PUSH_HUB_MAX_STREAMS_PER_TOKEN=]"),
        "{help}"
    );
    assert!(help.contains("[env: PUSH_HUB_JWT_KEY]"), "{help}");
    assert!(help.starts_with(env!("CARGO_PKG_DESCRIPTION")), "{help}");
}

#[test]
fn key_from_a_file() {
    let path = std::env::temp_dir().join(format!("push-hub-key-{}", std::process::id()));
    std::fs::write(&path, "s3cret").unwrap();
    assert_eq!(key_text(&format!("@{}", path.display())).unwrap(), "s3cret");
    assert_eq!(key_text("plain").unwrap(), "plain");
    std::fs::remove_file(path).unwrap();
}
