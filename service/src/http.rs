//! Outgoing HTTP (webhook deliveries). TLS is rustls with the *ring* provider, the same one
//! the database driver uses, installed once for the process.

/// A client builder with the TLS provider in place; every `reqwest` client of the process
/// must come from here (or after it), else building it panics.
pub fn client_builder() -> reqwest::ClientBuilder {
    // A second install (another caller, or an embedding program) is refused, harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// A plain client (tests, benchmarks).
pub fn client() -> reqwest::Client {
    client_builder().build().unwrap_or_default()
}
