//! The stream's limits and timings. Defaults follow DESIGN.md (ping every
//! 15 s, a peer silent for 45 s is dropped); tests shorten them.

use std::time::Duration;

use vexil_proto::wire::{PEER_TIMEOUT_SECS, PING_INTERVAL_SECS};

/// How every SDK stream of a replica behaves.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// The server sends `ping` this often.
    pub ping_interval: Duration,
    /// A peer that sent nothing (no frame, not even `pong`) for this long
    /// is dropped: its TCP connection may be dead without either side
    /// knowing.
    pub peer_timeout: Duration,
    /// The first frame (`hello`) must arrive within this, so a connection
    /// that never speaks does not hold a slot.
    pub hello_timeout: Duration,
    /// Patches queued for one connection before it counts as a slow
    /// consumer: its queue is then dropped and it gets one fresh snapshot.
    pub queue_capacity: usize,
    /// Recent patches kept per environment in memory, so a reconnecting
    /// SDK resumes without a database read.
    pub ring_capacity: usize,
    /// The largest frame a client may send; SDKs only send small control
    /// frames, so anything bigger is a bad frame (close 4400).
    pub max_frame_bytes: usize,
    /// One frame that takes longer than this to hand to the socket means
    /// the client stopped reading: the connection is dropped.
    pub send_timeout: Duration,
    /// The range of the reconnect hint in `goodbye` (chosen at random per
    /// connection), so clients of a restarting replica do not stampede.
    pub reconnect_after_ms: (u64, u64),
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            ping_interval: Duration::from_secs(PING_INTERVAL_SECS),
            peer_timeout: Duration::from_secs(PEER_TIMEOUT_SECS),
            hello_timeout: Duration::from_secs(10),
            queue_capacity: 256,
            ring_capacity: 1024,
            max_frame_bytes: 16 * 1024,
            send_timeout: Duration::from_secs(10),
            reconnect_after_ms: (500, 5_000),
        }
    }
}
