//! N-4: invoice documents. Any invoice as a PDF, and a renewal run's invoices as one PDF for
//! printing, written page by page as it is read so that a run of any size prints in the same
//! memory. Set in the PDF standard fonts: nothing to install and nothing embedded.

pub mod fonts;
pub mod invoice;
pub mod layout;
pub mod pdf;
pub mod print;

pub use invoice::{InvoiceDocument, Issuer, Lines};
pub use print::{RunPrint, invoice_pdf};
