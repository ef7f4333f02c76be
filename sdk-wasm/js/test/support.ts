// What the client tests share: timers the test advances by hand, a real
// WebSocket server (the `ws` package) the test scripts frame by frame,
// small snapshots, and waiting for a condition with a deadline that only
// fails the test.

import { once } from "node:events";
import type { AddressInfo } from "node:net";

import { WebSocketServer, type WebSocket } from "ws";

import { init, type Timers } from "../dist/index.js";

/** How long an awaited condition may take before the test fails. */
export const DEADLINE_MS = 20_000;

/** Loads the engine (once per process). */
export async function loadEngine(): Promise<void> {
  await init();
}

/** `promise`, or a failure naming `what` after the deadline (a real timer: it only bounds a failure). */
export async function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`)), DEADLINE_MS);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks `condition` every few milliseconds until it holds; fails after the
 * deadline. What is waited for is the condition, never the time.
 */
export async function until(what: string, condition: () => boolean): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > DEADLINE_MS) {
      throw new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Timers that fire only when the test advances the clock. */
export class ManualTimers implements Timers {
  now = 0;
  #next = 1;
  readonly #pending = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#pending.set(id, { at: this.now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** The delays of the pending timers from now, sorted. */
  pendingDelays(): number[] {
    return [...this.#pending.values()].map(({ at }) => at - this.now).sort((a, b) => a - b);
  }

  /** Moves the clock forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      let due: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#pending) {
        if (entry[1].at <= target && (due === undefined || entry[1].at < due[1].at)) {
          due = entry;
        }
      }
      if (due === undefined) {
        break;
      }
      this.#pending.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
    }
    this.now = target;
  }
}

/** One connection the scripted server accepted. */
export interface Peer {
  socket: WebSocket;
  /** The subprotocols the client offered. */
  protocols: string[];
  /** Frames received, parsed. */
  frames: Array<Record<string, unknown>>;
  closed: boolean;
  send(frame: object): void;
}

/** A real WebSocket server on 127.0.0.1 that echoes `vexil.*` subprotocols; the test plays the Vexil server. */
export class ScriptedServer {
  readonly peers: Peer[] = [];
  readonly #server: WebSocketServer;

  private constructor(server: WebSocketServer) {
    this.#server = server;
    server.on("connection", (socket, request) => {
      const protocols = (request.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
      const peer: Peer = {
        socket,
        protocols,
        frames: [],
        closed: false,
        send: (frame) => socket.send(JSON.stringify(frame)),
      };
      socket.on("message", (data) => peer.frames.push(JSON.parse(String(data)) as Record<string, unknown>));
      socket.on("close", () => {
        peer.closed = true;
      });
      this.peers.push(peer);
    });
  }

  static async start(): Promise<ScriptedServer> {
    const server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith("vexil.")) ?? false,
    });
    await once(server, "listening");
    return new ScriptedServer(server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Waits for connection number `n` (1-based) and its `hello`. */
  async peer(n: number): Promise<Peer> {
    await until(`connection ${n} and its hello`, () => (this.peers[n - 1]?.frames.length ?? 0) > 0);
    return this.peers[n - 1] as Peer;
  }

  async stop(): Promise<void> {
    for (const client of this.#server.clients) {
      client.terminate();
    }
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** A boolean flag `key` serving `on` (true) or `off` (false) to everyone. */
export function booleanFlag(key: string, on: boolean): object {
  return {
    key,
    kind: "boolean",
    variants: [
      { key: "on", value: true },
      { key: "off", value: false },
    ],
    config: { enabled: true, off_variant: "off", default_serve: { variant: on ? "on" : "off" } },
  };
}

/** A string flag `key` serving `value`. */
export function stringFlag(key: string, value: string): object {
  return {
    key,
    kind: "string",
    variants: [{ key: "only", value }],
    config: { enabled: true, off_variant: "only", default_serve: { variant: "only" } },
  };
}

/** A snapshot of `flags` at `version`. */
export function snapshot(version: number, flags: object[]): Record<string, unknown> {
  return { environment: "production", version, flags, segments: [] };
}
