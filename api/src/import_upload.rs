//! Reading an import request, whichever shape it comes in: a JSON body `{action, mode, rows,
//! map?}`, or a CSV file or XLSX workbook with `?action=&mode=&map=`. Every import reads its
//! request here; only the row parser differs.

use actix_web::web;
use serde_json::Value;
use service::column_map::ColumnMap;

use crate::dto::subscriptions::{ImportAction, ImportMode, ImportQuery, ImportRequestDto};
use crate::extract::{Upload, UploadKind, parse_json};
use crate::problem::ApiResult;

/// A row parser for each shape: JSON rows, or the bytes of a CSV file or XLSX workbook.
pub trait RowParser: Send + 'static {
    type Rows: Send + 'static;
    fn json(rows: Vec<Value>, map: &ColumnMap) -> service::Result<Self::Rows>;
    /// The file's bytes, taken whole: a parser keeps them and reads rows as it imports.
    fn csv(bytes: Vec<u8>, map: &ColumnMap) -> service::Result<Self::Rows>;
    fn xlsx(bytes: &[u8], map: &ColumnMap) -> service::Result<Self::Rows>;
}

/// The action, mode and parsed rows of an import request; `default_action` when the request
/// names none (else one is required). Files are parsed off the async workers: a large one
/// takes a while.
pub async fn read<P: RowParser>(
    upload: Upload,
    q: &ImportQuery,
    default_action: Option<ImportAction>,
) -> ApiResult<(ImportAction, ImportMode, P::Rows)> {
    let action = |given: Option<ImportAction>| {
        given.or(default_action).ok_or_else(|| {
            service::Error::invalid(
                "action",
                "is required: insert, insert_with_matching, update, upsert or delete",
            )
        })
    };
    match upload.kind {
        UploadKind::Json => {
            let req: ImportRequestDto = parse_json(&upload.bytes)?;
            let map = match req.map {
                Some(pairs) => ColumnMap::new(pairs)?,
                None => q.column_map()?,
            };
            Ok((action(req.action)?, req.mode, P::json(req.rows, &map)?))
        }
        UploadKind::Csv | UploadKind::Xlsx => {
            let action = action(q.action)?;
            let map = q.column_map()?;
            let bytes = upload.bytes;
            let kind = upload.kind;
            let rows = web::block(move || match kind {
                UploadKind::Xlsx => P::xlsx(&bytes, &map),
                // The body as received, not a copy of it.
                _ => P::csv(Vec::from(bytes), &map),
            })
            .await
            .map_err(|e| service::Error::Internal(e.to_string()))??;
            Ok((action, q.mode.unwrap_or_default(), rows))
        }
    }
}
