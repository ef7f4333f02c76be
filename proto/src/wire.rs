//! The WebSocket protocol at `GET /api/v1/stream`: JSON text frames, each
//! `{"type": ..., ...}`.

use serde::{Deserialize, Serialize};

use crate::segment::Segment;
use crate::snapshot::{Snapshot, SnapshotFlag};

/// Close code: the SDK key is missing, malformed or unknown.
pub const CLOSE_BAD_KEY: u16 = 4401;
/// Close code: the SDK key was revoked while connected.
pub const CLOSE_KEY_REVOKED: u16 = 4403;
/// Close code: the client sent a frame that is not valid protocol.
pub const CLOSE_BAD_FRAME: u16 = 4400;
/// `Sec-WebSocket-Protocol` prefix browsers use to send the SDK key.
pub const SUBPROTOCOL_PREFIX: &str = "vexil.";
/// Heartbeat interval, both ways.
pub const PING_INTERVAL_SECS: u64 = 15;
/// A peer silent for this long is dropped.
pub const PEER_TIMEOUT_SECS: u64 = 45;

/// Frames an SDK sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// First frame: who is connecting, and the version it already holds.
    Hello {
        /// SDK name, such as `vexil-sdk-rust`.
        sdk: String,
        /// SDK version, for the server's connection metrics.
        sdk_version: String,
        /// Resume point: the server sends patches after it, or a snapshot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since_version: Option<u64>,
    },
    Ping,
    Pong,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The whole environment: for new clients, clients too far behind, and
    /// slow consumers whose queue overflowed.
    Snapshot(Snapshot),
    /// One or more committed changes, contiguous with the previous frame.
    Patch(Patch),
    Ping,
    Pong,
    /// The server is shutting down; reconnect after the hint (to another replica).
    Goodbye {
        /// Why the server is closing the stream.
        reason: String,
        /// How long to wait before reconnecting, so clients do not stampede.
        reconnect_after_ms: u64,
    },
}

/// The changes between two versions of an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// The version this patch applies on top of.
    pub from_version: u64,
    /// The version after applying it.
    pub to_version: u64,
    /// Flags and segments created or changed.
    #[serde(default)]
    pub upserts: Vec<Upsert>,
    /// Flags and segments removed (deleted or archived).
    #[serde(default)]
    pub deletes: Vec<Delete>,
}

/// A created or changed object: `{"flag": {...}}` or `{"segment": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Upsert {
    Flag(SnapshotFlag),
    Segment(Segment),
}

/// A removed object by key: `{"flag": "key"}` or `{"segment": "key"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Delete {
    Flag(String),
    Segment(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_use_a_type_tag() {
        let hello: ClientMessage = serde_json::from_str(
            r#"{"type":"hello","sdk":"vexil-sdk-rust","sdk_version":"0.1.0","since_version":7}"#,
        )
        .unwrap();
        assert_eq!(
            hello,
            ClientMessage::Hello {
                sdk: "vexil-sdk-rust".into(),
                sdk_version: "0.1.0".into(),
                since_version: Some(7)
            }
        );
        let snapshot = ServerMessage::Snapshot(Snapshot {
            environment: "production".into(),
            version: 2,
            flags: vec![],
            segments: vec![],
        });
        let json = serde_json::to_string(&snapshot).unwrap();
        assert_eq!(
            json,
            r#"{"type":"snapshot","environment":"production","version":2,"flags":[],"segments":[]}"#
        );
        assert_eq!(
            serde_json::from_str::<ServerMessage>(&json).unwrap(),
            snapshot
        );
        let patch = r#"{"type":"patch","from_version":2,"to_version":3,"upserts":[],"deletes":[{"flag":"old"}]}"#;
        assert!(matches!(
            serde_json::from_str::<ServerMessage>(patch).unwrap(),
            ServerMessage::Patch(_)
        ));
    }

    #[test]
    fn rejects_unknown_types_and_fields() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"subscribe"}"#).is_err());
        assert!(
            serde_json::from_str::<ClientMessage>(
                r#"{"type":"hello","sdk":"x","sdk_version":"1","extra":1}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<ServerMessage>(
                r#"{"type":"patch","from_version":1,"to_version":2,"bogus":[]}"#
            )
            .is_err()
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"sdk":"x"}"#).is_err());
    }
}
