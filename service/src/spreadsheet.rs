//! Uploaded tables (CSV, XLSX) read into a header row and rows of text cells, within limits
//! that hold however the file is built.
//!
//! An XLSX file is a zip archive of XML. Spreadsheet readers build a dense grid between the
//! first and last cell (a 1.5 KB file with cells at A1 and XFD1048576 once took 6.6 GB), load
//! the shared strings whole (sized by a count the file states), and a zip entry may inflate a
//! thousandfold. So the archive is measured before the reader opens it, the sheet's stated
//! dimensions are checked before its cells are read, and the cells are streamed one by one,
//! each checked against the row and column limits: a hostile file is refused in milliseconds
//! at flat memory.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use crate::error::{Error, Result};

/// The most data rows an import reads (the header row aside).
pub const MAX_ROWS: usize = 1_000_000;

/// The most columns an import reads: every import field fits many times over.
pub const MAX_COLUMNS: usize = 64;

/// The most non-empty cells an XLSX import holds in memory.
const MAX_CELLS: usize = 16_000_000;

const MAX_ZIP_ENTRIES: usize = 10_000;
const MAX_ZIP_ENTRY_BYTES: u64 = 512 * 1024 * 1024;
const MAX_ZIP_BYTES: u64 = 1024 * 1024 * 1024;

/// A table as read: the header row and the data rows, each as wide as the header.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn too_large(what: &str) -> Error {
    Error::invalid(
        what,
        format!(
            "imports read at most {MAX_ROWS} rows and {MAX_COLUMNS} columns (A to {}); split the file",
            column_name(MAX_COLUMNS as u32 - 1)
        ),
    )
}

/// `A`, `B`, ..., `Z`, `AA`, ... for a 0-based column.
pub fn column_name(col: u32) -> String {
    let mut n = col + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// CSV with a header row: the headers, then the records as they are read (a malformed line,
/// or one past the row limit, is an error that rejects the file).
pub fn csv_records(
    bytes: &[u8],
) -> Result<(Vec<String>, impl Iterator<Item = Result<Vec<String>>> + '_)> {
    check_quotes(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::invalid("csv", format!("cannot read the header row: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    if headers.len() > MAX_COLUMNS {
        return Err(too_large("csv"));
    }
    let records = reader.into_records().enumerate().map(|(n, record)| {
        if n >= MAX_ROWS {
            return Err(too_large("csv"));
        }
        record
            .map(|r| r.iter().map(str::to_owned).collect())
            .map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                Error::invalid("csv", format!("line {line} cannot be read: {e}"))
            })
    });
    Ok((headers, records))
}

/// A quoted field left open swallows the rest of the file into one cell, which the CSV reader
/// accepts; such a file is refused, naming the line where the quote opens.
fn check_quotes(bytes: &[u8]) -> Result<()> {
    let (mut open_at, mut line) = (None, 1usize);
    for &b in bytes {
        match b {
            b'"' => open_at = if open_at.is_some() { None } else { Some(line) },
            b'\n' => line += 1,
            _ => {}
        }
    }
    match open_at {
        Some(line) => Err(Error::invalid(
            "csv",
            format!("line {line}: a quoted field is never closed (a \" is missing)"),
        )),
        None => Ok(()),
    }
}

/// The first worksheet of an XLSX workbook: its first non-empty row names the columns, which
/// start at its leftmost used column. Date cells become `YYYY-MM-DD`, whole numbers lose `.0`.
pub fn read_xlsx(bytes: &[u8]) -> Result<Table> {
    measure_archive(bytes)?;
    // The reader does arithmetic on cell references that a crafted file can overflow; such a
    // file is unreadable, not a crash of the request.
    std::panic::catch_unwind(|| read_first_sheet(bytes))
        .unwrap_or_else(|_| Err(unreadable("a cell reference is out of range")))
}

fn unreadable(e: impl std::fmt::Display) -> Error {
    Error::invalid("xlsx", format!("not a readable XLSX workbook: {e}"))
}

/// Refuses an archive whose entries are too many or inflate too far, shared strings whose
/// stated count exceeds what their entry could hold (the reader reserves that count up front),
/// and worksheets whose dimension or cell references lie outside the limits (the reader builds
/// its grid from them, and overflows on references past 32 bits).
fn measure_archive(bytes: &[u8]) -> Result<()> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(unreadable("the archive has too many entries"));
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let declared = zip.by_index_raw(i).map_err(unreadable)?.size();
        if declared > MAX_ZIP_ENTRY_BYTES {
            return Err(too_large("xlsx"));
        }
        let mut entry = zip.by_index(i).map_err(unreadable)?;
        let name = entry.name().to_ascii_lowercase().replace('\\', "/");
        let mut scan = References::new(name.starts_with("xl/worksheets/"));
        let mut head = Vec::new();
        let mut size: u64 = 0;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = entry.read(&mut chunk).map_err(unreadable)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > MAX_ZIP_ENTRY_BYTES {
                return Err(too_large("xlsx"));
            }
            if head.len() < 4096 {
                head.extend_from_slice(&chunk[..n.min(4096 - head.len())]);
            }
            scan.feed(&chunk[..n])?;
        }
        if size != declared {
            return Err(unreadable("an entry is larger than it states"));
        }
        total += size;
        if total > MAX_ZIP_BYTES {
            return Err(too_large("xlsx"));
        }
        if name.ends_with("sharedstrings.xml")
            && stated_count(&head).is_some_and(|n| n > size / 5 + 1)
        {
            return Err(unreadable(
                "the shared strings state more entries than they hold",
            ));
        }
    }
    Ok(())
}

/// Checks the `<dimension ref>`, `<row r>` and `<c r>` attributes of a worksheet as its XML
/// streams by, a chunk at a time (a tag cut by a chunk's end is read with the next).
struct References {
    active: bool,
    carry: Vec<u8>,
}

/// The longest tag start kept across chunks; cell and row tags are far shorter.
const MAX_TAG: usize = 1024;

impl References {
    fn new(active: bool) -> Self {
        References {
            active,
            carry: Vec::new(),
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        if !self.active {
            return Ok(());
        }
        let mut text = std::mem::take(&mut self.carry);
        text.extend_from_slice(chunk);
        let mut at = 0;
        while let Some(open) = text[at..].iter().position(|b| *b == b'<') {
            let start = at + open;
            let Some(close) = text[start..].iter().position(|b| *b == b'>') else {
                // The tag goes on in the next chunk.
                if text.len() - start <= MAX_TAG {
                    self.carry = text[start..].to_vec();
                }
                return Ok(());
            };
            check_tag(&text[start..start + close])?;
            at = start + close + 1;
        }
        Ok(())
    }
}

/// One tag (from `<` to before `>`): a cell, row or dimension reference within the limits.
fn check_tag(tag: &[u8]) -> Result<()> {
    let name_end = tag
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'/')
        .unwrap_or(tag.len());
    let name = &tag[1..name_end];
    let attribute = match name {
        b"c" => "r",
        b"row" => "r",
        b"dimension" => "ref",
        _ => return Ok(()),
    };
    let Some(value) = attribute_value(&tag[name_end..], attribute) else {
        return Ok(());
    };
    let ok = match name {
        b"c" => cell_position(value).is_some_and(within_limits),
        b"row" => row_number(value).is_some_and(|r| within_limits((r, 0))),
        _ => dimension_ok(value),
    };
    if ok { Ok(()) } else { Err(too_large("xlsx")) }
}

/// The value of ` name="..."` among a tag's attributes.
fn attribute_value<'a>(attributes: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let mut rest = attributes;
    loop {
        let at = rest.windows(name.len() + 2).position(|w| {
            &w[..name.len()] == name.as_bytes()
                && w[name.len()] == b'='
                && w[name.len() + 1] == b'"'
        })?;
        let before = at.checked_sub(1).map(|i| rest[i]);
        let value_start = at + name.len() + 2;
        if before.is_some_and(|b| b.is_ascii_whitespace()) {
            let len = rest[value_start..].iter().position(|b| *b == b'"')?;
            return Some(&rest[value_start..value_start + len]);
        }
        rest = &rest[value_start..];
    }
}

/// `A1`..`XFD1048576` as a 0-based (row, column); `None` when malformed or too long to be one.
fn cell_position(reference: &[u8]) -> Option<(u32, u32)> {
    let letters = reference
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    if !(1..=3).contains(&letters) {
        return None;
    }
    let col = reference[..letters].iter().fold(0u32, |acc, b| {
        acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    let row = row_number(&reference[letters..])?;
    Some((row, col - 1))
}

/// A 1-based row number of at most 7 digits as 0-based.
fn row_number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 7 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    n.checked_sub(1)
}

/// `A1` or `A1:D20`, both ends within the limits and in order.
fn dimension_ok(value: &[u8]) -> bool {
    let mut ends = value.split(|b| *b == b':');
    let (Some(first), second, None) = (ends.next(), ends.next(), ends.next()) else {
        return false;
    };
    let start = cell_position(first);
    let end = second.map_or(start, cell_position);
    match (start, end) {
        (Some(s), Some(e)) => within_limits(s) && within_limits(e) && s.0 <= e.0 && s.1 <= e.1,
        _ => false,
    }
}

/// The largest `count="N"` / `uniqueCount="N"` in the start of a shared strings entry.
fn stated_count(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let mut largest = None;
    for attr in ["count=\"", "Count=\""] {
        for (at, _) in text.match_indices(attr) {
            let digits: String = text[at + attr.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            // A count too long to parse is larger than any entry.
            let n = digits.parse::<u64>().unwrap_or(u64::MAX);
            largest = largest.max(Some(n));
        }
    }
    largest
}

fn read_first_sheet(bytes: &[u8]) -> Result<Table> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(unreadable)?;
    let first = book
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid("xlsx", "the workbook has no worksheet"))?;
    let mut cells = book.worksheet_cells_reader(&first).map_err(unreadable)?;
    let stated = cells.dimensions();
    if !within_limits(stated.end) {
        return Err(too_large("xlsx"));
    }
    let mut by_row: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    let mut count = 0usize;
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let position = cell.get_position();
        if !within_limits(position) {
            return Err(too_large("xlsx"));
        }
        let value = Data::from(cell.get_value().clone());
        if value == Data::Empty {
            continue;
        }
        count += 1;
        if count > MAX_CELLS {
            return Err(too_large("xlsx"));
        }
        by_row
            .entry(position.0)
            .or_default()
            .push((position.1, cell_text(&value)));
    }
    table_of(by_row)
}

/// Row and column (0-based) inside the limits: the header row plus [`MAX_ROWS`] data rows.
fn within_limits((row, col): (u32, u32)) -> bool {
    (row as usize) <= MAX_ROWS && (col as usize) < MAX_COLUMNS
}

/// Cells by row into a table starting at the leftmost used column, as wide as its header row.
fn table_of(by_row: BTreeMap<u32, Vec<(u32, String)>>) -> Result<Table> {
    let left = by_row
        .values()
        .flatten()
        .map(|(col, _)| *col)
        .min()
        .unwrap_or(0);
    let mut rows = by_row.into_values().map(|cells| {
        let mut row: Vec<(usize, String)> = cells
            .into_iter()
            .map(|(col, text)| ((col - left) as usize, text))
            .collect();
        row.sort_by_key(|(col, _)| *col);
        row
    });
    let header_cells = rows
        .next()
        .ok_or_else(|| Error::invalid("xlsx", "the first worksheet is empty"))?;
    let width = header_cells.last().map_or(0, |(col, _)| col + 1);
    let headers = spread(header_cells, width);
    let rows = rows
        .filter(|cells| cells.iter().any(|(col, _)| *col < width))
        .map(|cells| spread(cells, width))
        .collect();
    Ok(Table { headers, rows })
}

fn spread(cells: Vec<(usize, String)>, width: usize) -> Vec<String> {
    let mut row = vec![String::new(); width];
    for (col, text) in cells {
        if let Some(slot) = row.get_mut(col) {
            *slot = text;
        }
    }
    row
}

/// A cell as import text.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "Y" } else { "N" }.to_owned(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|dt| {
                if dt.time() == chrono::NaiveTime::MIN {
                    dt.date().to_string()
                } else {
                    dt.to_string()
                }
            })
            .unwrap_or_else(|| d.as_f64().to_string()),
        Data::Error(e) => format!("#{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_run_a_to_xfd() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(63), "BL");
        assert_eq!(column_name(16_383), "XFD");
    }

    #[test]
    fn stated_counts_are_read_from_the_start_of_shared_strings() {
        let head = br#"<?xml version="1.0"?><sst xmlns="x" count="12" uniqueCount="100000000000">"#;
        assert_eq!(stated_count(head), Some(100_000_000_000));
        assert_eq!(stated_count(b"<sst>"), None);
        assert_eq!(
            stated_count(br#"<sst uniqueCount="99999999999999999999999">"#),
            Some(u64::MAX)
        );
    }

    #[test]
    fn worksheet_references_are_checked_as_they_stream() {
        let refused = |xml: &str| {
            let mut scan = References::new(true);
            let bytes = xml.as_bytes();
            // Cut anywhere: a tag across two chunks is still read whole.
            let (a, b) = bytes.split_at(bytes.len() / 2);
            scan.feed(a).and_then(|()| scan.feed(b)).is_err()
        };
        assert!(!refused(
            r#"<dimension ref="A1:C20"/><row r="2"><c r="B2" t="s"><v>1</v></c></row>"#
        ));
        assert!(refused(r#"<dimension ref="A1:XFD1048576"/>"#));
        assert!(refused(r#"<dimension ref="B5:A1"/>"#));
        assert!(refused(r#"<row r="2"><c r="XFD2"><v>1</v></c></row>"#));
        assert!(refused(
            r#"<row r="99999999999"><c r="A99999999999"/></row>"#
        ));
        assert!(refused(r#"<c r="A0"/>"#));
        assert!(refused(r#"<c r="AAAA1"/>"#));
        assert!(!refused(
            r#"<col min="1" max="16384"/><cols r="x"/><c s="1" t="s"><v>0</v></c>"#
        ));
        assert_eq!(cell_position(b"A1"), Some((0, 0)));
        assert_eq!(cell_position(b"BL7"), Some((6, 63)));
        assert_eq!(cell_position(b"xfd1048576"), Some((1_048_575, 16_383)));
        assert!(dimension_ok(b"A1"));
        assert!(!dimension_ok(b"A1:B2:C3"));
    }

    #[test]
    fn limits_cover_the_header_and_the_data_rows() {
        assert!(within_limits((0, 0)));
        assert!(within_limits((MAX_ROWS as u32, MAX_COLUMNS as u32 - 1)));
        assert!(!within_limits((MAX_ROWS as u32 + 1, 0)));
        assert!(!within_limits((0, MAX_COLUMNS as u32)));
        assert!(!within_limits((1_048_575, 16_383)));
    }
}
