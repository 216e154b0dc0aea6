//! The units of the flags' values: durations (`90s`, `10m`) and sizes (`16MiB`).

use std::time::Duration;

/// A duration: a number with a unit of `ms`, `s`, `m`, `h` or `d` (`0` alone is zero).
pub(super) fn duration(text: &str) -> Result<Duration, String> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit (ms, s, m, h or d)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a number"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(number)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{unit}` is not a unit (ms, s, m, h or d)")),
    };
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

/// A size in bytes: a number, optionally with `KiB`, `MiB` or `GiB` (or `K`, `M`, `G`).
pub(super) fn bytes(text: &str) -> Result<usize, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a number"))?;
    let shift = match unit {
        "" | "B" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        _ => return Err(format!("`{unit}` is not a unit (KiB, MiB or GiB)")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        assert!(duration("10").unwrap_err().contains("no unit"));
        assert!(duration("5 minutes").is_err());
        assert_eq!(duration("99999999999999999999d").ok(), None);
        assert_eq!(bytes("16MiB"), Ok(16 << 20));
        assert_eq!(bytes("512"), Ok(512));
        assert!(bytes("1TiB").is_err());
        assert!(bytes(&format!("{}G", usize::MAX)).is_err());
    }
}
