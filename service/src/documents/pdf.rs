//! A PDF written front to back, so that a document of any number of pages is sent as it is
//! made: each page's objects go out as soon as it is drawn, and only their byte offsets are
//! kept for the cross-reference table at the end. The objects themselves are written by
//! `pdf-writer`.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::{Chunk, Filter, Rect, Ref};

use super::fonts::Font;

/// US Letter, in points.
pub const PAGE_WIDTH: f32 = 612.0;
pub const PAGE_HEIGHT: f32 = 792.0;

const CATALOG: Ref = Ref::new(1);
const PAGES: Ref = Ref::new(2);
const FONTS: [(Font, Ref); 2] = [(Font::Regular, Ref::new(3)), (Font::Bold, Ref::new(4))];
const FIRST_FREE: i32 = 5;

pub struct PdfStream {
    /// Bytes handed out so far: where the next object starts.
    written: usize,
    /// Each object's offset, by id (0 is the free list's head).
    offsets: Vec<usize>,
    pages: Vec<Ref>,
    next_id: i32,
}

impl PdfStream {
    /// A document whose header and fonts are written to `out`.
    pub fn start(out: &mut Vec<u8>) -> PdfStream {
        let mut pdf = PdfStream {
            written: 0,
            offsets: vec![0; FIRST_FREE as usize],
            pages: Vec::new(),
            next_id: FIRST_FREE,
        };
        pdf.emit(out, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
        for (font, id) in FONTS {
            let mut chunk = Chunk::new();
            chunk
                .type1_font(id)
                .base_font(font.base_font())
                .encoding_predefined(pdf_writer::Name(b"WinAnsiEncoding"));
            pdf.object(out, id, &chunk);
        }
        pdf
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// A page drawn by `content` (its operators, uncompressed).
    pub fn page(&mut self, out: &mut Vec<u8>, content: &[u8]) {
        let content_id = self.reserve();
        let page_id = self.reserve();
        let mut chunk = Chunk::new();
        chunk
            .stream(content_id, &compress(content))
            .filter(Filter::FlateDecode);
        self.object(out, content_id, &chunk);
        let mut chunk = Chunk::new();
        {
            let mut page = chunk.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
                .parent(PAGES)
                .contents(content_id);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            for (font, id) in FONTS {
                fonts.pair(font.resource(), id);
            }
        }
        self.object(out, page_id, &chunk);
        self.pages.push(page_id);
    }

    /// The page tree, the catalog, the cross-reference table and the trailer.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        let mut chunk = Chunk::new();
        chunk
            .pages(PAGES)
            .kids(self.pages.iter().copied())
            .count(i32::try_from(self.pages.len()).unwrap_or(i32::MAX));
        self.object(out, PAGES, &chunk);
        let mut chunk = Chunk::new();
        chunk
            .indirect(CATALOG)
            .start::<pdf_writer::writers::Catalog>()
            .pages(PAGES);
        self.object(out, CATALOG, &chunk);
        let xref_at = self.written;
        let size = self.offsets.len();
        let mut table = format!("xref\n0 {size}\n0000000000 65535 f \n");
        for offset in &self.offsets[1..] {
            table.push_str(&format!("{offset:010} 00000 n \n"));
        }
        table.push_str(&format!(
            "trailer\n<< /Size {size} /Root {} 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
            CATALOG.get()
        ));
        self.emit(out, table.as_bytes());
    }

    fn reserve(&mut self) -> Ref {
        let id = Ref::new(self.next_id);
        self.next_id += 1;
        self.offsets.push(0);
        id
    }

    fn object(&mut self, out: &mut Vec<u8>, id: Ref, chunk: &Chunk) {
        if let Some(slot) = usize::try_from(id.get())
            .ok()
            .and_then(|i| self.offsets.get_mut(i))
        {
            *slot = self.written;
        }
        self.emit(out, chunk.as_bytes());
    }

    fn emit(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(bytes);
        self.written += bytes.len();
    }
}

fn compress(content: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(content.len() / 3), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(content);
    encoder.finish().unwrap_or_default()
}
