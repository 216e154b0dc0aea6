//! The hot path of the JSON encoders: numbers written straight into a byte buffer, byte for byte
//! what `serde_json` writes (strings: [`push_core::push_json_string`]).

/// The length of `s` as a JSON string when it needs no escaping (a lower bound otherwise).
pub(crate) fn str_len(s: &str) -> usize {
    s.len() + 2
}

/// Appends `n` in decimal, like `format!("{n}")`.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_format() {
        for n in [
            0,
            1,
            9,
            10,
            15,
            16,
            255,
            256,
            0x5eed,
            u64::MAX / 3,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }
}
