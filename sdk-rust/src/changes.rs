//! What changed between two snapshots, for `on_change` subscribers (which
//! flags: `vexil_engine::changed_flags`).

/// A new snapshot was installed: its version and the flags whose
/// evaluation may have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// The environment version now served.
    pub version: u64,
    /// Flags added, removed or edited, flags whose rules use a changed
    /// segment, and flags that depend on any of those as a prerequisite.
    /// Sorted; may be empty (a new version that changed nothing here).
    pub flags: Vec<String>,
}
