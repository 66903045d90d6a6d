//! The two fonts invoices are set in: Helvetica and Helvetica-Bold, two of the fonts every PDF
//! reader has, so that nothing is embedded and a page stays a few hundred bytes. Their widths
//! come from Adobe's metrics files; text is written in WinAnsiEncoding.

use std::sync::OnceLock;

use pdf_writer::Name;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

impl Font {
    /// The name a page's resources give the font.
    pub fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }

    pub fn base_font(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"Helvetica"),
            Font::Bold => Name(b"Helvetica-Bold"),
        }
    }

    /// The width of `text` set at `size` points.
    pub fn width(self, text: &str, size: f32) -> f32 {
        let widths = self.widths();
        let units: u32 = encode(text)
            .iter()
            .map(|&b| u32::from(widths[usize::from(b)]))
            .sum();
        units as f32 * size / 1000.0
    }

    /// Widths in thousandths of the size, by WinAnsiEncoding code.
    fn widths(self) -> &'static [u16; 256] {
        static REGULAR: OnceLock<[u16; 256]> = OnceLock::new();
        static BOLD: OnceLock<[u16; 256]> = OnceLock::new();
        match self {
            Font::Regular => REGULAR.get_or_init(|| widths(pdf_core_14_font_afms::HELVETICA)),
            Font::Bold => BOLD.get_or_init(|| widths(pdf_core_14_font_afms::HELVETICA_BOLD)),
        }
    }
}

/// An average letter's width for the codes outside ASCII, which the metrics list by glyph
/// name only: wide enough that text measured with it is never set past its column.
const OTHER_WIDTH: u16 = 611;

/// The widths of the printable ASCII codes from an AFM file's `C code ; WX width ; N name`
/// lines. WinAnsiEncoding puts the straight quote and the grave accent where the AFM's
/// standard encoding has curly quotes.
fn widths(afm: &str) -> [u16; 256] {
    let mut by_code = [OTHER_WIDTH; 256];
    let mut quotesingle = None;
    let mut grave = None;
    for line in afm.lines().filter(|l| l.starts_with("C ")) {
        let mut code = None;
        let mut width = None;
        let mut name = None;
        for field in line.split(';').map(str::trim) {
            if let Some(v) = field.strip_prefix("C ") {
                code = v.trim().parse::<i32>().ok();
            } else if let Some(v) = field.strip_prefix("WX ") {
                width = v.trim().parse::<u16>().ok();
            } else if let Some(v) = field.strip_prefix("N ") {
                name = Some(v.trim());
            }
        }
        let Some(width) = width else { continue };
        match name {
            Some("quotesingle") => quotesingle = Some(width),
            Some("grave") => grave = Some(width),
            _ => {}
        }
        if let Some(code) = code.and_then(|c| usize::try_from(c).ok())
            && (32..127).contains(&code)
        {
            by_code[code] = width;
        }
    }
    by_code[39] = quotesingle.unwrap_or(by_code[39]);
    by_code[96] = grave.unwrap_or(by_code[96]);
    by_code
}

/// `text` in WinAnsiEncoding (Windows-1252). A character it has no code for becomes `?`;
/// control characters (a line break in a name) become spaces.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let code = u32::from(c);
        let byte = match code {
            0..0x20 | 0x7f => b' ',
            0x20..0x7f | 0xa0..=0xff => code as u8,
            _ => windows_1252(c).unwrap_or(b'?'),
        };
        out.push(byte);
    }
    out
}

/// The codes Windows-1252 gives in 0x80..0x9F (the euro sign, curly quotes, dashes, ...).
fn windows_1252(c: char) -> Option<u8> {
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
    match (unmappable, bytes.as_ref()) {
        (false, [b]) => Some(*b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n4_helvetica_widths_come_from_the_metrics() {
        // Digits are 556 thousandths wide in both weights; the period 278.
        assert!((Font::Regular.width("10.00", 10.0) - 25.02).abs() < 0.001);
        assert!((Font::Bold.width("0", 1000.0) - 556.0).abs() < 0.001);
        assert!(Font::Bold.width("Total", 10.0) > Font::Regular.width("Total", 10.0));
    }

    #[test]
    fn n4_text_is_written_in_winansi() {
        assert_eq!(encode("Zoë €5"), b"Zo\xeb \x805".to_vec());
        assert_eq!(encode("a\r\nb"), b"a  b".to_vec());
        assert_eq!(encode("李"), b"?".to_vec());
    }
}
