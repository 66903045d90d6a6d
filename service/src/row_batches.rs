//! An import's rows in batches, read and parsed on a thread of their own: while the import
//! plans and writes one batch, the next is already being parsed, so the file's parsing
//! overlaps the database's work instead of adding to it. One batch waits ahead,
//! so memory still holds a few batches of rows, however long the file.

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::row_reader::Source;

/// A batch: each row's 0-based index in the file and what parsing it gave.
pub type Batch<T> = Vec<(usize, Result<T>)>;

/// Batches waiting to be planned while the current one is written.
const AHEAD: usize = 1;

pub struct Batches<T> {
    rx: mpsc::Receiver<Batch<T>>,
    reader: Option<JoinHandle<()>>,
}

/// Reads the rows of `source` whose index passes `take`, `size` at a time, each parsed by
/// `parse`.
pub fn read_ahead<T: Send + 'static>(
    source: Arc<Source>,
    size: usize,
    take: impl Fn(usize) -> bool + Send + 'static,
    parse: impl Fn(Map<String, Value>) -> Result<T> + Send + 'static,
) -> Batches<T> {
    let (tx, rx) = mpsc::channel(AHEAD);
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(size);
        for (i, row) in source.rows().enumerate().filter(|(i, _)| take(*i)) {
            batch.push((i, row.and_then(&parse)));
            if batch.len() == size {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(size));
                // The import stopped reading (it failed): nothing is left to do.
                if tx.blocking_send(full).is_err() {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
    });
    Batches {
        rx,
        reader: Some(reader),
    }
}

impl<T> Batches<T> {
    /// The next batch; `None` after the last. A reader that died before the end is an
    /// error, never a file cut short.
    pub async fn next(&mut self) -> Result<Option<Batch<T>>> {
        if let Some(batch) = self.rx.recv().await {
            return Ok(Some(batch));
        }
        if let Some(reader) = self.reader.take() {
            reader
                .await
                .map_err(|e| Error::Internal(format!("reading the import's rows failed: {e}")))?;
        }
        Ok(None)
    }
}
