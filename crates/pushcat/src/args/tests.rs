//! The command line's parsing.

use super::*;

fn parse(words: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("pushcat").chain(words.iter().copied()))
}

#[test]
fn the_command_line_is_well_formed() {
    Cli::command().debug_assert();
}

#[test]
fn parses_a_url_repeatable_options_and_the_last_of_a_repeated_flag() {
    let cli = parse(&[
        "ws",
        "--count",
        "3",
        "ws://x/",
        "--subscribe",
        "a",
        "--subscribe",
        "-b",
        "--count",
        "4",
        "--cacert",
        "one.pem",
        "--cacert",
        "two.pem",
    ])
    .unwrap();
    let Command::Ws(ws) = cli.command else {
        panic!("{:?}", cli.command)
    };
    assert_eq!(ws.url, "ws://x/");
    assert_eq!(ws.topics, ["a", "-b"]);
    assert_eq!(ws.count.n, Some(4));
    assert_eq!(ws.from, None);
    assert_eq!(ws.tls.files, [PathBuf::from("one.pem"), "two.pem".into()]);
}

#[test]
fn sse_defaults() {
    let Command::Sse(SseCommand::Decode(decode)) = parse(&["sse", "decode"]).unwrap().command
    else {
        panic!("not sse decode")
    };
    assert_eq!(decode.chunk_size, 64 * 1024);
    let cli = parse(&["sse", "listen", "http://x/"]).unwrap();
    let Command::Sse(SseCommand::Listen(listen)) = cli.command else {
        panic!("not sse listen")
    };
    assert_eq!((listen.last_event_id, listen.count.n), (None, None));
}

#[test]
fn errors_name_the_flag_and_are_usage_errors() {
    for (words, flag) in [
        (&["poll", "http://x/", "--count"][..], "--count"),
        (&["poll", "http://x/", "--count", "0"], "--count"),
        (&["poll", "http://x/", "--since", "nope"], "--since"),
        (&["poll", "u", "--nope", "1"], "--nope"),
        (&["sse", "decode", "--chunk-size", "0"], "--chunk-size"),
        (
            &["sse", "decode", "--chunk-size", "16777217"],
            "--chunk-size",
        ),
        (&["sse", "listen"], "<URL>"),
        (&["ws", "ws://x/"], "--subscribe"),
    ] {
        let error = parse(words).unwrap_err();
        assert_eq!(error.exit_code(), 2, "{words:?}");
        let text = error.to_string();
        assert!(text.contains(flag), "{words:?}: {text}");
    }
}

#[test]
fn help_is_not_an_error() {
    for words in [
        &["--help"][..],
        &["poll", "--help"],
        &["sse", "listen", "-h"],
    ] {
        let error = parse(words).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::DisplayHelp, "{words:?}");
        assert_eq!(error.exit_code(), 0, "{words:?}");
    }
}
