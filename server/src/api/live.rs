//! The UI's live feed: `GET /api/v1/projects/{project}/events`, a
//! Server-Sent Events stream of the project's change log.
//!
//! Each committed change is one `event: change` whose `id` is the change's
//! id and whose `data` is the change as `GET …/changes` shows it, oldest
//! first. A client that reconnects with `Last-Event-ID` gets exactly the
//! changes after that id; without it, the feed starts at the newest change
//! (nothing historical is replayed). The change log is the source of
//! truth: wake-ups only say "look now", so a lost wake-up delays an event,
//! never drops it.
//!
//! Wake-ups: this replica's commits, other replicas' doorbell notices and
//! the snapshot cache's version poll ([`Streams::project_changes`]), and a
//! poll of the log every [`POLL_EVERY`] as the safety net (changes that
//! bump no environment version on a replica without Redis). A comment
//! every [`KEEP_ALIVE`] keeps proxies from closing an idle feed. Browsers
//! read it with `fetch` and a stream reader, so the session travels in the
//! `Authorization` header like every other call, never in the URL.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use tokio::sync::{broadcast, watch};
use tokio::time::{Interval, MissedTickBehavior};
use tracing::warn;
use utoipa::OpenApi;

use super::error::{ApiError, ErrorBody};
use crate::auth::{AuthState, Principal};
use crate::store::{Change, ChangeFilter, Page, Store, StoreResult};
use crate::stream::Streams;

/// A comment this often keeps an idle feed open through proxies.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The log is read this often even without a wake-up.
pub const POLL_EVERY: Duration = Duration::from_secs(5);

/// Changes read per page while catching up.
const PAGE: u32 = 100;

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(events),
    tags((name = "live", description = "Live updates for the UI: the change log as Server-Sent Events"))
)]
pub struct Doc;

/// `/api/v1/projects/{project}/events`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
    Streams: FromRef<S>,
{
    Router::new().route("/api/v1/projects/{project}/events", get(events))
}

/// The project's committed changes as they happen (Server-Sent Events).
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/events",
    tag = "live",
    params(
        ("project" = String, Path, description = "Project key"),
        ("Last-Event-ID" = Option<String>, Header,
            description = "The id of the last change received: the feed resumes after it. Without it, the feed starts at the newest change."),
    ),
    security(("user" = [])),
    responses(
        (status = 200, description = "`text/event-stream`: one `event: change` per committed change, oldest first, `id` the change's id and `data` the change as the change log shows it; a comment every 15 s", content_type = "text/event-stream", body = String),
        (status = 400, description = "`Last-Event-ID` is not a change id", body = ErrorBody),
        (status = 401, description = "No session or API token", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
    )
)]
async fn events(
    State(store): State<Arc<dyn Store>>,
    State(streams): State<Streams>,
    _principal: Principal,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let resume = last_event_id(&headers)?;
    store.get_project(&project).await?;
    // Subscribed before the starting point is read, so a change committed
    // in between still wakes the feed.
    let wake = streams.project_changes();
    let after = match resume {
        Some(id) => id,
        None => newest(&*store, &project).await?,
    };
    let mut poll = tokio::time::interval_at(tokio::time::Instant::now() + POLL_EVERY, POLL_EVERY);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let tail = Tail {
        store,
        project,
        after,
        pending: VecDeque::new(),
        wake,
        stopping: streams.stopping(),
        poll,
    };
    let stream = futures_util::stream::unfold(tail, Tail::next);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// `Last-Event-ID`, if sent: a change id.
fn last_event_id(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default().trim();
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        ApiError::BadRequest(format!(
            "`Last-Event-ID` must be a change id (a whole number), not `{value}`"
        ))
    })
}

/// The id of the project's newest change, 0 when it has none.
async fn newest(store: &dyn Store, project: &str) -> StoreResult<u64> {
    let filter = ChangeFilter {
        page: Page {
            page: 1,
            per_page: 1,
        },
        ..ChangeFilter::default()
    };
    let page = store.list_changes(Some(project), &filter).await?;
    Ok(page.items.first().map_or(0, |change| change.id))
}

/// The project's changes after `after`, oldest first. Pages through the
/// newest-first log until it reaches `after`; changes committed meanwhile
/// shift later pages, which repeats entries (kept once) but skips none.
async fn changes_after(store: &dyn Store, project: &str, after: u64) -> StoreResult<Vec<Change>> {
    let mut found = BTreeMap::new();
    for page in 1.. {
        let filter = ChangeFilter {
            page: Page {
                page,
                per_page: PAGE,
            },
            ..ChangeFilter::default()
        };
        let items = store.list_changes(Some(project), &filter).await?.items;
        let done = items.len() < PAGE as usize || items.iter().any(|change| change.id <= after);
        found.extend(
            items
                .into_iter()
                .filter(|change| change.id > after)
                .map(|change| (change.id, change)),
        );
        if done {
            break;
        }
    }
    Ok(found.into_values().collect())
}

/// One open feed: where it is in the log and what wakes it.
struct Tail {
    store: Arc<dyn Store>,
    project: String,
    /// The id of the last change sent (or the starting point).
    after: u64,
    /// Changes read but not sent yet, oldest first.
    pending: VecDeque<Change>,
    wake: broadcast::Receiver<String>,
    stopping: watch::Receiver<bool>,
    poll: Interval,
}

impl Tail {
    /// The next event, or `None` once the replica shuts down.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            while let Some(change) = self.pending.pop_front() {
                self.after = change.id;
                match Event::default()
                    .event("change")
                    .id(change.id.to_string())
                    .json_data(&change)
                {
                    Ok(event) => return Some((Ok(event), self)),
                    Err(err) => {
                        warn!(id = change.id, error = %err, "live feed could not encode a change")
                    }
                }
            }
            if *self.stopping.borrow() {
                return None;
            }
            match changes_after(&*self.store, &self.project, self.after).await {
                Ok(changes) if !changes.is_empty() => {
                    self.pending.extend(changes);
                    continue;
                }
                Ok(_) => {}
                Err(err) => {
                    warn!(project = %self.project, error = %err, "live feed could not read the change log; retrying");
                }
            }
            if !self.woken().await {
                return None;
            }
        }
    }

    /// Waits for a reason to read the log again: a wake-up for this
    /// project (or a lag, which may hide one), the poll, or shutdown
    /// (`false`).
    async fn woken(&mut self) -> bool {
        loop {
            tokio::select! {
                changed = self.stopping.changed() => {
                    if changed.is_err() || *self.stopping.borrow() {
                        return false;
                    }
                }
                woke = self.wake.recv() => match woke {
                    Ok(project) if project == self.project => return true,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return true,
                    // Never while the replica runs; the poll still works.
                    Err(broadcast::error::RecvError::Closed) => {
                        self.poll.tick().await;
                        return true;
                    }
                },
                _ = self.poll.tick() => return true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn last_event_id_is_a_change_id() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("last-event-id", HeaderValue::from_str(value).unwrap());
            last_event_id(&headers)
        };
        assert_eq!(last_event_id(&HeaderMap::new()).unwrap(), None);
        assert_eq!(with("42").unwrap(), Some(42));
        assert_eq!(with(" 7 ").unwrap(), Some(7));
        assert_eq!(with("").unwrap(), None);
        let err = with("abc").unwrap_err();
        assert!(
            matches!(&err, ApiError::BadRequest(m) if m == "`Last-Event-ID` must be a change id (a whole number), not `abc`"),
            "{err:?}"
        );
    }
}
