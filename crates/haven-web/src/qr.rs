//! The enrolment QR code, drawn as SVG on the server and embedded as a `data:` image (the CSP
//! allows `img-src data:`; no script is involved).

use base64::Engine as _;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An `<img src>` value showing `text` as a QR code, or `None` if it is too long for one.
pub fn svg_data_uri(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image.as_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_are_svg_data_uris() {
        let uri = svg_data_uri("otpauth://totp/Haven:admin?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert!(uri.starts_with("data:image/svg+xml;base64,"));
        let svg = base64::engine::general_purpose::STANDARD
            .decode(&uri["data:image/svg+xml;base64,".len()..])
            .unwrap();
        assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    }
}
