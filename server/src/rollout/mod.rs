//! Guarded rollout plans: a flag in one environment ramps through stages
//! (percent + minimum hold), everywhere or region by region, advanced by
//! the server while no guard fires. A firing guard (an alert matcher or a
//! tripped kill switch) pauses the plan and rolls its exposure back to 0.
//! Every move that changes exposure is a normal change of the flag's
//! config, so SDKs get it through the stream like any edit.
//!
//! # Layout
//! - `model`: a plan as people write it (variant, stages, regions,
//!   guards) and its state (running, paused, where, since when).
//! - `validate`: a plan checked against its flag before it is stored.
//! - `exposure`: what a plan in a state serves, and the config (default
//!   serve, or one `region-<region>` rule per region) that serves it.
//! - `schedule`: when a running plan's next stage, region or completion
//!   is due (pure; the clock is an argument).
//! - `moves`: each move as one conditional write (stages, guards,
//!   people's pause, resume and abort).
//! - `guards`: alerts matching a plan's guards, tripped switches.
//! - `advance`: the per-replica task that ticks the schedule.

pub mod advance;
pub mod exposure;
pub mod guards;
pub mod model;
pub mod moves;
pub mod schedule;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

pub use exposure::{Exposure, Share};
pub use model::*;

use crate::auth::{Clock, SystemClock};

/// How the advancer runs: not on the command line; programs that embed
/// the server and tests set it.
#[derive(Debug, Clone)]
pub struct RolloutConfig {
    /// How often each replica looks for due stages and firing guards.
    pub tick: Duration,
    /// Where stage holds read the time (tests pass a manual clock).
    pub clock: Arc<dyn Clock>,
}

impl Default for RolloutConfig {
    fn default() -> Self {
        RolloutConfig {
            tick: Duration::from_secs(1),
            clock: Arc::new(SystemClock),
        }
    }
}
