//! QR codes of connect links, drawn as SVG on the server (staff open the link on their phone).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The QR code of `text` as an SVG element (no XML declaration), or `None` when the text is
/// too long for a QR code.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Drop the XML declaration: the SVG goes inline in the page.
    let start = image.find("<svg")?;
    Some(image[start..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connect_link_becomes_an_inline_svg() {
        let url = "https://hub.example.com/connect/tiktok?store_code=store_01&invite=AbCdEf0123456789AbCdEf0123456789AbCdEf01234";
        let image = svg(url).unwrap();
        assert!(image.starts_with("<svg"));
        assert!(image.contains("<path") || image.contains("<rect"));
        assert!(!image.contains("<?xml"));
        assert!(!image.contains("style="), "no inline style: the CSP forbids it");
        // The link itself is not in the picture's markup.
        assert!(!image.contains("invite="));
        assert!(svg(&"x".repeat(8000)).is_none());
    }
}
