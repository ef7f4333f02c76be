// The one reconnect loop and its sessions: connect with the key as the
// subprotocol, say hello with the version held, apply snapshots and
// contiguous patches, answer and send pings, notice a silent server, and
// reconnect with full-jitter backoff (or after `goodbye`'s wait) until
// closed or the key is refused. The same rules as the Rust SDK's
// `stream.rs` and `session.rs` (docs/decisions.md).

import { fullJitter } from "./backoff.js";
import {
  CLOSE_BAD_KEY,
  CLOSE_KEY_REVOKED,
  CONNECT_TIMEOUT_MS,
  PEER_TIMEOUT_MS,
  PING_INTERVAL_MS,
  SDK_NAME,
  SDK_VERSION,
  SUBPROTOCOL_PREFIX,
} from "./protocol.js";
import type { Timers, WebSocketConstructor, WebSocketLike } from "./socket.js";

/** What the loop tells its owner. */
export interface StreamHandler {
  /** The version to resume from: the last one received from a stream. */
  resumeVersion(): number | undefined;
  /** A `snapshot` frame (its JSON text). Throws if it is not one. */
  snapshot(frame: string): void;
  /** A `patch` frame starting at the version held. Throws if refused. */
  patch(frame: string): void;
  /** The server took the key and the resume point: what is held is current. */
  resumed(): void;
  /** The connection is gone; a reconnect is scheduled. */
  disconnected(why: string): void;
  /** The server refused the key (4401/4403): no more reconnects. */
  rejected(code: number): void;
  /** Something worth a warning (a skipped frame). */
  warn(message: string): void;
}

export interface StreamConfig {
  url: string;
  sdkKey: string;
  webSocket: WebSocketConstructor;
  timers: Timers;
  backoff: { minMs: number; maxMs: number };
  random: () => number;
}

/** Why a session ended. */
type End =
  | { kind: "closed" }
  | { kind: "rejected"; code: number }
  | { kind: "goodbye"; delayMs: number }
  | { kind: "gap"; held: number | undefined; from: number }
  | { kind: "lost"; why: string };

interface Frame {
  type?: unknown;
  from_version?: unknown;
  reconnect_after_ms?: unknown;
  reason?: unknown;
}

export class Stream {
  readonly #config: StreamConfig;
  readonly #handler: StreamHandler;
  #attempt = 0;
  #stopped = false;
  #reconnect: unknown;
  #endSession: ((end: End) => void) | undefined;

  constructor(config: StreamConfig, handler: StreamHandler) {
    this.#config = config;
    this.#handler = handler;
  }

  start(): void {
    this.#connect();
  }

  /** Stops for good: closes the socket politely, cancels any reconnect. */
  stop(): void {
    if (this.#stopped) {
      return;
    }
    this.#stopped = true;
    if (this.#reconnect !== undefined) {
      this.#config.timers.clearTimeout(this.#reconnect);
      this.#reconnect = undefined;
    }
    this.#endSession?.({ kind: "closed" });
  }

  #connect(): void {
    this.#reconnect = undefined;
    if (this.#stopped) {
      return;
    }
    const { timers } = this.#config;
    let socket: WebSocketLike;
    try {
      socket = new this.#config.webSocket(this.#config.url, [SUBPROTOCOL_PREFIX + this.#config.sdkKey]);
    } catch (error) {
      this.#ended({ kind: "lost", why: `cannot open the WebSocket: ${String(error)}` });
      return;
    }

    let over = false;
    let ping: unknown;
    let silence: unknown;
    const clearTimers = () => {
      timers.clearTimeout(ping);
      timers.clearTimeout(silence);
    };
    const end = (why: End) => {
      if (over) {
        return;
      }
      over = true;
      this.#endSession = undefined;
      clearTimers();
      try {
        socket.close(1000);
      } catch {
        // Already closing.
      }
      this.#ended(why);
    };
    this.#endSession = end;
    const send = (frame: object) => {
      try {
        socket.send(JSON.stringify(frame));
      } catch (error) {
        end({ kind: "lost", why: `send failed: ${String(error)}` });
      }
    };
    const armSilence = (ms: number, why: string) => {
      timers.clearTimeout(silence);
      silence = timers.setTimeout(() => end({ kind: "lost", why }), ms);
    };
    const armPing = () => {
      ping = timers.setTimeout(() => {
        send({ type: "ping" });
        armPing();
      }, PING_INTERVAL_MS);
    };

    armSilence(CONNECT_TIMEOUT_MS, "connection attempt timed out");
    socket.addEventListener("open", () => {
      if (over) {
        return;
      }
      const since = this.#handler.resumeVersion();
      send({ type: "hello", sdk: SDK_NAME, sdk_version: SDK_VERSION, since_version: since });
      if (since !== undefined && !over) {
        this.#handler.resumed();
      }
      armPing();
      armSilence(PEER_TIMEOUT_MS, `the server was silent for ${PEER_TIMEOUT_MS / 1000} s`);
    });
    socket.addEventListener("message", (event: { data: unknown }) => {
      if (over) {
        return;
      }
      armSilence(PEER_TIMEOUT_MS, `the server was silent for ${PEER_TIMEOUT_MS / 1000} s`);
      if (typeof event.data !== "string") {
        this.#handler.warn("ignoring a binary stream frame");
        return;
      }
      const outcome = this.#frame(event.data, send);
      if (outcome !== undefined) {
        end(outcome);
      }
    });
    socket.addEventListener("close", (event: { code: number; reason?: string }) => {
      if (event.code === CLOSE_BAD_KEY || event.code === CLOSE_KEY_REVOKED) {
        end({ kind: "rejected", code: event.code });
      } else {
        end({ kind: "lost", why: `the server closed the stream (${event.code})` });
      }
    });
    // An `error` is always followed by `close`, which decides.
    socket.addEventListener("error", () => {});
  }

  /** Acts on one frame; an `End` ends the session. */
  #frame(text: string, send: (frame: object) => void): End | undefined {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      this.#handler.warn("ignoring a stream frame that is not JSON");
      return undefined;
    }
    switch (frame.type) {
      case "snapshot":
        try {
          this.#handler.snapshot(text);
        } catch (error) {
          this.#handler.warn(`ignoring a snapshot the engine refused: ${String(error)}`);
          return undefined;
        }
        this.#attempt = 0;
        return undefined;
      case "patch": {
        const held = this.#handler.resumeVersion();
        const from = typeof frame.from_version === "number" ? frame.from_version : -1;
        if (held === undefined || held !== from) {
          return { kind: "gap", held, from };
        }
        try {
          this.#handler.patch(text);
        } catch {
          return { kind: "gap", held, from };
        }
        this.#attempt = 0;
        return undefined;
      }
      case "ping":
        send({ type: "pong" });
        return undefined;
      case "pong":
        return undefined;
      case "goodbye": {
        const delayMs = typeof frame.reconnect_after_ms === "number" ? frame.reconnect_after_ms : 0;
        return { kind: "goodbye", delayMs };
      }
      default:
        // A frame from a newer server: skip it. A lost patch shows as a gap.
        this.#handler.warn(`ignoring a stream frame of type ${JSON.stringify(frame.type)}`);
        return undefined;
    }
  }

  #ended(end: End): void {
    if (end.kind === "closed" || this.#stopped) {
      return;
    }
    let delay: number;
    switch (end.kind) {
      case "rejected":
        this.#stopped = true;
        this.#handler.rejected(end.code);
        return;
      case "goodbye":
        // Honoured exactly: the server already spreads its clients.
        this.#attempt = 0;
        delay = end.delayMs;
        this.#handler.disconnected("the server said goodbye");
        break;
      case "gap":
        delay = this.#nextDelay();
        this.#handler.disconnected(`patch from version ${end.from} while holding ${end.held ?? "nothing"}`);
        break;
      case "lost":
        delay = this.#nextDelay();
        this.#handler.disconnected(end.why);
        break;
    }
    this.#reconnect = this.#config.timers.setTimeout(() => this.#connect(), delay);
  }

  #nextDelay(): number {
    return fullJitter(this.#attempt++, this.#config.backoff, this.#config.random);
  }
}
