//! Reads a QR code back with a real decoder (`zbarimg`, Debian's `zbar-tools`): the modules a
//! page drew are written as a PBM image (four-module quiet zone, four pixels a module).

use serde_json::Value;

/// Decodes `modules` (rows of `'0'` / `'1'`, as the login page keeps them) and returns the text
/// zbarimg read, or its complaint.
pub(crate) fn decode(modules: &Value, name: &str) -> String {
    let rows: Vec<&str> = modules
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row.as_str().expect("a row of 0 and 1"))
        .collect();
    let (scale, quiet) = (4, 4);
    let side = (rows.len() + 2 * quiet) * scale;
    let mut image = format!("P1\n{side} {side}\n");
    for y in 0..side {
        let line: Vec<&str> = (0..side)
            .map(|x| {
                let (mx, my) = (
                    (x / scale).checked_sub(quiet),
                    (y / scale).checked_sub(quiet),
                );
                let dark = mx
                    .zip(my)
                    .and_then(|(mx, my)| rows.get(my).and_then(|row| row.as_bytes().get(mx)))
                    == Some(&b'1');
                if dark { "1" } else { "0" }
            })
            .collect();
        image.push_str(&line.join(" "));
        image.push('\n');
    }
    let path = std::env::temp_dir().join(format!("push-hub-qr-{name}-{}.pbm", std::process::id()));
    std::fs::write(&path, image).expect("image written");
    let output = std::process::Command::new(push_test_support::tools::zbarimg())
        .args(["--raw", "-q"])
        .arg(&path)
        .output()
        .expect("zbarimg runs");
    let _ = std::fs::remove_file(&path);
    if output.status.success() {
        String::from_utf8_lossy(&output.stdout)
            .trim_end_matches('\n')
            .to_owned()
    } else {
        format!("zbarimg found no code (status {})", output.status)
    }
}
