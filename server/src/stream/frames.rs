//! Frames as they go on the wire: each patch and each snapshot is
//! serialized once per environment and the same bytes (a cheaply cloned
//! [`Utf8Bytes`]) are handed to every subscriber.

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use vexil_proto::{Patch, ServerMessage, Snapshot};

use crate::snapshots::CachedSnapshot;

/// A `patch` frame, with the versions it spans so a connection can check
/// continuity without parsing it again.
#[derive(Debug, Clone)]
pub struct PatchFrame {
    pub from: u64,
    pub to: u64,
    pub text: Utf8Bytes,
}

/// A `snapshot` frame at one version.
#[derive(Debug, Clone)]
pub struct SnapshotFrame {
    pub version: u64,
    pub text: Utf8Bytes,
}

/// The borrowed twin of [`ServerMessage`]'s data frames, so serializing
/// needs no clone of the snapshot.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Borrowed<'a> {
    Snapshot(&'a Snapshot),
    Patch(&'a Patch),
}

impl PatchFrame {
    pub fn new(patch: &Patch) -> Self {
        PatchFrame {
            from: patch.from_version,
            to: patch.to_version,
            text: encode(&Borrowed::Patch(patch)),
        }
    }
}

impl SnapshotFrame {
    /// The frame of a cached snapshot, from the JSON the cache already
    /// holds (`{"environment": ...}`) with the type tag put in front, so a
    /// new version costs no second serialization.
    pub fn from_cached(cached: &CachedSnapshot) -> Self {
        let json = cached.json();
        match std::str::from_utf8(json) {
            Ok(body) if body.starts_with('{') && body.len() > 2 => SnapshotFrame {
                version: cached.version(),
                text: format!(r#"{{"type":"snapshot",{}"#, &body[1..]).into(),
            },
            _ => SnapshotFrame::new(cached.source()),
        }
    }

    pub fn new(snapshot: &Snapshot) -> Self {
        SnapshotFrame {
            version: snapshot.version,
            text: encode(&Borrowed::Snapshot(snapshot)),
        }
    }
}

/// A control frame (`ping`, `pong`, `goodbye`).
pub fn control(message: &ServerMessage) -> Utf8Bytes {
    encode(message)
}

fn encode(value: &impl Serialize) -> Utf8Bytes {
    // The proto types are plain data (string keys, no maps with non-string
    // keys), so serializing them cannot fail.
    serde_json::to_string(value)
        .unwrap_or_else(|_| String::from(r#"{"type":"ping"}"#))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back_as_server_messages() {
        let snapshot = Snapshot {
            environment: "production".into(),
            version: 4,
            ..Snapshot::default()
        };
        let frame = SnapshotFrame::new(&snapshot);
        assert_eq!(
            serde_json::from_str::<ServerMessage>(frame.text.as_str()).unwrap(),
            ServerMessage::Snapshot(snapshot.clone())
        );
        let cached = CachedSnapshot::new("default", &snapshot).unwrap();
        assert_eq!(SnapshotFrame::from_cached(&cached).text, frame.text);
        let patch = Patch {
            from_version: 4,
            to_version: 5,
            upserts: vec![],
            deletes: vec![vexil_proto::Delete::Flag("old".into())],
        };
        let frame = PatchFrame::new(&patch);
        assert_eq!((frame.from, frame.to), (4, 5));
        assert_eq!(
            serde_json::from_str::<ServerMessage>(frame.text.as_str()).unwrap(),
            ServerMessage::Patch(patch)
        );
    }
}
