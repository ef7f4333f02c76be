// Live updates: the project's change log as Server-Sent Events from
// `GET /api/v1/projects/{project}/events`. Read with `fetch` and a stream
// reader (not `EventSource`) so the session goes in the `Authorization`
// header, never in the URL. A dropped feed reconnects with a capped,
// jittered back-off and `Last-Event-ID`, so the server sends exactly the
// changes missed; pages subscribe and reload (debounced) when their
// project changes.

/** One dispatched SSE event. */
export interface SseEvent {
  /** `event:`; `message` when the server named none. */
  event: string;
  /** The last `id:` seen on the stream (it persists across events). */
  id: string;
  /** The `data:` lines joined with newlines. */
  data: string;
}

/**
 * An incremental parser of `text/event-stream` (the WHATWG rules): feed it
 * text as it arrives, in chunks cut anywhere; it returns the events each
 * chunk completed. Comments (`: …`) and events without data are dropped.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  /** The last event id, as the browser's `lastEventId`. */
  lastEventId = '';
  /** The server's `retry:` (ms), if it sent one. */
  retry: number | null = null;

  feed(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone `\r` at the end may be the first half of `\r\n`: wait.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) out.push(event);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      const event = this.data.length
        ? { event: this.event || 'message', id: this.lastEventId, data: this.data.join('\n') }
        : null;
      this.event = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

/** The wait before reconnect attempt `attempt` (0-based): doubling from
 *  `baseMs`, capped at `maxMs`, scaled by `jitter` in [0.5, 1]. */
export function backoffMs(attempt: number, baseMs = 500, maxMs = 15_000, jitter = 1): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(capped * (0.5 + 0.5 * Math.min(1, Math.max(0, jitter))));
}

export type LiveState = 'connecting' | 'live' | 'offline';

export interface FeedOptions {
  /** Base of the API (`''` for the same origin). */
  base?: string;
  project: string;
  /** The session token at the time of each (re)connection. */
  token: () => string | null;
  onEvent: (event: SseEvent) => void;
  onState?: (state: LiveState) => void;
  /** A 401 or 404: the feed stops for good (the app logs out, the project is gone). */
  onFatal?: (status: number) => void;
  /** Resume after this id (the last one a previous feed delivered). */
  lastEventId?: string;
  fetchImpl?: typeof fetch;
  /** Waits `ms` or until the signal aborts (tests pass a recorder). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

const realSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** One project's feed: connects, reads, reconnects until `stop()`. */
export class LiveFeed {
  private readonly opts: FeedOptions;
  private readonly abort = new AbortController();
  lastEventId: string;
  /** Resolves when the loop has ended (after `stop()` or a fatal answer). */
  readonly done: Promise<void>;

  constructor(opts: FeedOptions) {
    this.opts = opts;
    this.lastEventId = opts.lastEventId ?? '';
    this.done = this.run();
  }

  stop() {
    this.abort.abort();
  }

  private async run() {
    const { opts } = this;
    const fetchImpl = opts.fetchImpl ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
    const sleep = opts.sleep ?? realSleep;
    const random = opts.random ?? Math.random;
    const signal = this.abort.signal;
    let attempt = 0;
    let base = 500;
    while (!signal.aborted) {
      opts.onState?.('connecting');
      const parser = new SseParser();
      parser.lastEventId = this.lastEventId;
      try {
        const headers: Record<string, string> = { Accept: 'text/event-stream' };
        const token = opts.token();
        if (token) headers.Authorization = `Bearer ${token}`;
        if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
        const url = `${opts.base ?? ''}/api/v1/projects/${encodeURIComponent(opts.project)}/events`;
        const response = await fetchImpl(url, { headers, signal, cache: 'no-store' });
        if (response.status === 401 || response.status === 404) {
          opts.onState?.('offline');
          opts.onFatal?.(response.status);
          return;
        }
        if (response.ok && response.body) {
          attempt = 0;
          opts.onState?.('live');
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
              this.lastEventId = event.id;
              opts.onEvent(event);
            }
          }
        }
      } catch {
        // Aborted, or the network dropped: reconnect below (unless stopped).
      }
      if (signal.aborted) break;
      if (parser.retry !== null) base = parser.retry;
      opts.onState?.('offline');
      await sleep(backoffMs(attempt, base, 15_000, random()), signal);
      attempt += 1;
    }
  }
}

type Handler = (events: SseEvent[]) => void;

/** How the hub learns where the log stands and when to connect. */
export interface HubTiming {
  /** The id of the project's newest change (`'0'` for none), read before
   *  the page loads its data; the feed resumes after it, so nothing
   *  committed in between is missed. */
  anchor?: (project: string) => Promise<string>;
  /** The feed connects this long after `watch`, so its connection (one of
   *  the browser's six per host) does not compete with the page's first
   *  burst of requests. */
  connectDelayMs?: number;
}

/**
 * The app's one feed (of the current project) and the pages listening to
 * it. Each subscriber gets the events of a burst together, `debounceMs`
 * after the last one, so a page reloads once per burst of changes.
 */
export class LiveHub {
  private feed: LiveFeed | null = null;
  private project = '';
  /** Bumped by every `watch`/`stop`, so a superseded delayed connect does nothing. */
  private generation = 0;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly timing: HubTiming;
  private readonly subscribers = new Set<{ project: string; handler: Handler; debounceMs: number; queued: SseEvent[]; timer?: ReturnType<typeof setTimeout> }>();
  private readonly make: (opts: FeedOptions) => LiveFeed;
  private readonly base: Omit<FeedOptions, 'project' | 'onEvent'>;

  constructor(
    base: Omit<FeedOptions, 'project' | 'onEvent'>,
    timing: HubTiming = {},
    make = (o: FeedOptions) => new LiveFeed(o),
  ) {
    this.base = base;
    this.timing = timing;
    this.make = make;
  }

  /** Follows `project` (a no-op if already following it); resolves once
   *  the anchor is read, before the (delayed) connection. */
  async watch(project: string): Promise<void> {
    if (this.project === project) return;
    this.stop();
    this.project = project;
    const generation = this.generation;
    let lastEventId = '';
    try {
      lastEventId = (await this.timing.anchor?.(project)) ?? '';
    } catch {
      // Start at the newest change instead.
    }
    if (generation !== this.generation) return;
    this.connectTimer = setTimeout(() => {
      if (generation !== this.generation) return;
      this.feed = this.make({ ...this.base, project, lastEventId, onEvent: (e) => this.dispatch(project, e) });
    }, this.timing.connectDelayMs ?? 0);
  }

  stop() {
    this.generation += 1;
    clearTimeout(this.connectTimer);
    this.feed?.stop();
    this.feed = null;
    this.project = '';
  }

  /** Calls `handler` after changes to `project`; returns the unsubscribe. */
  subscribe(project: string, handler: Handler, debounceMs = 250): () => void {
    const sub = { project, handler, debounceMs, queued: [] as SseEvent[], timer: undefined as ReturnType<typeof setTimeout> | undefined };
    this.subscribers.add(sub);
    return () => {
      clearTimeout(sub.timer);
      this.subscribers.delete(sub);
    };
  }

  private dispatch(project: string, event: SseEvent) {
    for (const sub of this.subscribers) {
      if (sub.project !== project) continue;
      sub.queued.push(event);
      clearTimeout(sub.timer);
      sub.timer = setTimeout(() => {
        const events = sub.queued;
        sub.queued = [];
        sub.handler(events);
      }, sub.debounceMs);
    }
  }
}
