//! The arguments every network subcommand takes: one URL and `--flag VALUE` options.

use std::fmt::Display;
use std::str::FromStr;

/// A subcommand's parsed arguments.
pub(crate) struct Args {
    /// The one positional argument, if given.
    pub(crate) url: Option<String>,
    options: Vec<(String, String)>,
}

impl Args {
    /// Parses `args`: `flags` are the options that take a value (each may repeat); any other
    /// `--…` word, or a second positional word, is an error that names it.
    pub(crate) fn parse(args: &[String], flags: &[&str]) -> Result<Self, String> {
        let mut url = None;
        let mut options = Vec::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if flags.contains(&arg.as_str()) {
                let value = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
                options.push((arg.clone(), value.clone()));
            } else if url.is_none() && !arg.starts_with("--") {
                url = Some(arg.clone());
            } else {
                return Err(format!("unexpected argument {arg:?}"));
            }
        }
        Ok(Self { url, options })
    }

    /// Every value given to `flag`, in order.
    pub(crate) fn all<'a>(&'a self, flag: &'a str) -> impl Iterator<Item = &'a str> {
        self.options
            .iter()
            .filter(move |(f, _)| f == flag)
            .map(|(_, v)| v.as_str())
    }

    /// The last value given to `flag`, parsed; the error names the flag.
    pub(crate) fn get<T: FromStr>(&self, flag: &str) -> Result<Option<T>, String>
    where
        T::Err: Display,
    {
        self.all(flag)
            .last()
            .map(|v| v.parse().map_err(|e| format!("{flag}: {e}")))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn parses_a_url_and_repeatable_options() {
        let args = Args::parse(
            &strings(&[
                "--count",
                "3",
                "ws://x/",
                "--subscribe",
                "a",
                "--subscribe",
                "b",
            ]),
            &["--count", "--subscribe"],
        )
        .unwrap();
        assert_eq!(args.url.as_deref(), Some("ws://x/"));
        assert_eq!(args.all("--subscribe").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(args.get::<u64>("--count"), Ok(Some(3)));
        assert_eq!(args.get::<u64>("--from"), Ok(None));
    }

    #[test]
    fn errors_name_the_argument() {
        let flags = ["--count"];
        let missing = Args::parse(&strings(&["--count"]), &flags).err().unwrap();
        assert_eq!(missing, "--count needs a value");
        let unknown = Args::parse(&strings(&["u", "--nope"]), &flags)
            .err()
            .unwrap();
        assert_eq!(unknown, "unexpected argument \"--nope\"");
        let bad = Args::parse(&strings(&["--count", "x"]), &flags).unwrap();
        assert!(
            bad.get::<u64>("--count")
                .unwrap_err()
                .starts_with("--count: ")
        );
    }
}
