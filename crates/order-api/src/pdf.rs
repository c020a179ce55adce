//! Invoices and credit notes as PDF: one A4 page per 45 lines of text, in Helvetica (a base-14
//! font every reader has, so no font is embedded), WinAnsi-encoded so that a PDF reader can
//! extract the text. Characters outside that encoding print as `?`.

use order_domain::documents::{Document, DocumentKind};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

const LINES_PER_PAGE: usize = 45;
const TOP: f32 = 800.0;
const LEFT: f32 = 56.0;
const LEADING: f32 = 16.0;

/// The document as a PDF file.
pub fn render(document: &Document) -> Vec<u8> {
    let text = lines(document);
    let pages: Vec<&[String]> = text.chunks(LINES_PER_PAGE).collect();
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let font_name = Name(b"F1");
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|n| Ref::new(4 + 2 * i32::try_from(n).unwrap_or(0)))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(pages.len()).unwrap_or(1));
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    for (page_id, page_lines) in page_ids.iter().zip(pages) {
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
        page.parent(tree);
        page.contents(content_id);
        page.resources().fonts().pair(font_name, font);
        page.finish();
        let mut content = Content::new();
        content.begin_text();
        content.set_font(font_name, 11.0);
        content.set_leading(LEADING);
        content.next_line(LEFT, TOP);
        for line in page_lines {
            content.show(Str(&win_ansi(line)));
            content.next_line_using_leading();
        }
        content.end_text();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

/// The document's text, line by line: amounts in major units with the currency code.
fn lines(document: &Document) -> Vec<String> {
    let c = &document.content;
    let money = |minor: i64| {
        let sign = if minor < 0 { "-" } else { "" };
        let minor = minor.unsigned_abs();
        format!(
            "{sign}{}.{:02} {}",
            minor / 100,
            minor % 100,
            c.currency.code()
        )
    };
    let title = match c.kind {
        DocumentKind::Invoice => "INVOICE",
        DocumentKind::CreditNote => "CREDIT NOTE",
    };
    let mut out = vec![
        format!("{title} {}", document.number),
        format!("Issued {}", c.issued_at.date()),
        format!("Order {}", c.order_number),
    ];
    if let Some(invoice) = &document.corrects {
        out.push(format!("Corrects invoice {invoice}"));
    }
    out.push(String::new());
    out.push(format!("Seller: {}", c.seller.legal_name));
    out.extend(c.seller.address.iter().cloned());
    if let Some(tax_id) = &c.seller.tax_id {
        out.push(format!("Tax id: {tax_id}"));
    }
    out.push(String::new());
    out.push(format!("Buyer: {}", c.buyer.name));
    out.extend(c.buyer.address.iter().cloned());
    out.extend(c.buyer.email.clone());
    out.push(String::new());
    for line in &c.lines {
        out.push(format!(
            "{} x {}  at {}  = {}",
            line.quantity,
            line.description,
            money(line.unit_price),
            money(line.total)
        ));
    }
    out.push(String::new());
    out.push(format!("Subtotal: {}", money(c.subtotal)));
    for (label, amount) in [
        ("Discount", -c.discount),
        ("Platform fee", c.platform_fee),
        ("Processing fee", c.processing_fee),
        ("Shipping", c.shipping),
    ] {
        if amount != 0 {
            out.push(format!("{label}: {}", money(amount)));
        }
    }
    let rate = c.tax_rate_ppm;
    out.push(format!(
        "Tax ({}.{:04} %): {}",
        rate / 10_000,
        rate % 10_000,
        money(c.tax)
    ));
    out.push(format!("Total: {}", money(c.total)));
    out
}

/// `text` in WinAnsi (Windows-1252 for the Latin-1 range), `?` for anything else; the bytes
/// PDF string escaping needs are left to `Str`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|ch| match u32::from(ch) {
            code @ (0x20..=0x7e | 0xa0..=0xff) => u8::try_from(code).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_outside_win_ansi_prints_as_a_question_mark() {
        assert_eq!(win_ansi("Café 東"), b"Caf\xe9 ?".to_vec());
    }
}
