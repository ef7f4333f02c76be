//! The stream's Prometheus metrics: connected streams by environment,
//! frames sent by kind, snapshots sent to slow consumers, closes by code.

/// A connection joined (`+1`) or left (`-1`) an environment's feed.
pub fn connected(project: &str, environment: &str, delta: f64) {
    metrics::gauge!(
        "vexil_stream_connections",
        "project" => project.to_owned(),
        "environment" => environment.to_owned()
    )
    .increment(delta);
}

/// One frame handed to a socket (`snapshot`, `patch`, `ping`, ...).
pub fn frame_sent(kind: &'static str) {
    metrics::counter!("vexil_stream_frames_sent_total", "kind" => kind).increment(1);
}

/// A slow consumer's queue overflowed and it got a snapshot instead.
pub fn slow_consumer() {
    metrics::counter!("vexil_stream_slow_consumer_snapshots_total").increment(1);
}

/// The server closed a stream with `code`.
pub fn closed(code: u16) {
    metrics::counter!("vexil_stream_closes_total", "code" => code.to_string()).increment(1);
}
