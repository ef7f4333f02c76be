// What the client needs of a WebSocket and of timers: the browser's and
// Node's `WebSocket` (or the `ws` package's) fit, and tests can pass
// timers they control.

/** The part of the WHATWG `WebSocket` the client uses. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `any`: the DOM's and `ws`'s event types differ; the client reads
  // `data` (message) and `code` (close) only.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addEventListener(type: "open" | "message" | "close" | "error", listener: (event: any) => void): void;
}

/** A `WebSocket` constructor: `new WebSocket(url, protocols)`. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

/** One-shot timers; the defaults are the host's `setTimeout`/`clearTimeout`. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const HOST_TIMERS: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The host's `WebSocket`, if it has one (browsers, workers, Node ≥ 22). */
export function hostWebSocket(): WebSocketConstructor | undefined {
  const ws = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof ws === "function" ? (ws as WebSocketConstructor) : undefined;
}
