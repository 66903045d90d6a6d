//! Prometheus metrics at `/metrics`: requests by route, method and status with a latency
//! histogram, and the duration of long operations (renewal runs, imports). Kept in process:
//! each server process reports its own, as Prometheus expects of a scrape target.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, c) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *c += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (bound, c) in BUCKETS.iter().zip(self.counts.iter()) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Registry {
    /// (method, route, status) → latency.
    requests: BTreeMap<(String, String, u16), Histogram>,
    /// operation → duration.
    operations: BTreeMap<&'static str, Histogram>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Mutex::default)
}

/// Counts a request. `route` is the matched pattern (`/api/v1/contacts/{id}`), never the raw
/// path, so that ids do not multiply the series.
pub fn observe_request(method: &str, route: &str, status: u16, took: Duration) {
    let mut r = registry().lock().unwrap_or_else(PoisonError::into_inner);
    r.requests
        .entry((method.to_owned(), route.to_owned(), status))
        .or_default()
        .observe(took.as_secs_f64());
}

/// Records how long a long operation took (`renewal_run`, `subscription_import`).
pub fn observe_operation(operation: &'static str, took: Duration) {
    let mut r = registry().lock().unwrap_or_else(PoisonError::into_inner);
    r.operations
        .entry(operation)
        .or_default()
        .observe(took.as_secs_f64());
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The text exposition format.
pub fn render() -> String {
    let r = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = String::new();
    out.push_str("# HELP ams_http_requests_total HTTP requests by route, method and status.\n");
    out.push_str("# TYPE ams_http_requests_total counter\n");
    for ((method, route, status), h) in &r.requests {
        let _ = writeln!(
            out,
            "ams_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {}",
            escape(method),
            escape(route),
            h.count
        );
    }
    out.push_str("# HELP ams_http_request_duration_seconds HTTP request latency by route.\n");
    out.push_str("# TYPE ams_http_request_duration_seconds histogram\n");
    for ((method, route, status), h) in &r.requests {
        let labels = format!(
            "method=\"{}\",route=\"{}\",status=\"{status}\"",
            escape(method),
            escape(route)
        );
        h.render(&mut out, "ams_http_request_duration_seconds", &labels);
    }
    out.push_str("# HELP ams_operation_duration_seconds Duration of renewal runs and imports.\n");
    out.push_str("# TYPE ams_operation_duration_seconds histogram\n");
    for (operation, h) in &r.operations {
        let labels = format!("operation=\"{operation}\"");
        h.render(&mut out, "ams_operation_duration_seconds", &labels);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_into_every_bucket_at_or_above_the_value() {
        let mut h = Histogram::default();
        h.observe(0.02);
        h.observe(2.0);
        let mut out = String::new();
        h.render(&mut out, "x", "a=\"b\"");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.01\"} 0\n"));
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.025\"} 1\n"));
        assert!(out.contains("x_bucket{a=\"b\",le=\"5\"} 2\n"));
        assert!(out.contains("x_bucket{a=\"b\",le=\"+Inf\"} 2\n"));
        assert!(out.contains("x_count{a=\"b\"} 2\n"));
    }
}
