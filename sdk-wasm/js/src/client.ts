// The client applications hold: local evaluation through the wasm engine,
// kept current by the stream, with provider state and change events.

import { DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
import { type Details, details } from "./details.js";
import { Engine, PreparedContext } from "./engine.js";
import { Listeners, type Listener } from "./events.js";
import { streamUrl } from "./protocol.js";
import { HOST_TIMERS, hostWebSocket, type Timers, type WebSocketConstructor } from "./socket.js";
import { Stream } from "./stream.js";
import { loadRegex } from "./wasm.js";
import type {
  ChangeEvent,
  EvaluationContext,
  EvaluationResult,
  JsonValue,
  ProviderState,
  StateEvent,
} from "./types.js";

/** A context, or one prepared with `client.prepare` for many calls. */
export type Ctx = EvaluationContext | PreparedContext;

const isBoolean = (value: unknown): value is boolean => typeof value === "boolean";
const isString = (value: unknown): value is string => typeof value === "string";
const isNumber = (value: unknown): value is number => typeof value === "number";
const isJson = (value: unknown): value is JsonValue => value !== undefined;

export interface ClientOptions {
  /** The server's base URL, e.g. `https://flags.example.com`. */
  url?: string;
  /** The environment's SDK key. Sent as the `vexil.<key>` subprotocol. */
  sdkKey?: string;
  /**
   * The `WebSocket` constructor. Default: the host's (browsers, edge
   * workers, Node ≥ 22). On Node 20 pass the `ws` package's, or run with
   * `--experimental-websocket`.
   */
  webSocket?: WebSocketConstructor;
  /** A snapshot (JSON text) to serve until the stream delivers one. */
  bootstrap?: string;
  /** Never connect: serve `bootstrap`, `READY`. `url` and `sdkKey` are then ignored. */
  offline?: boolean;
  /** How long to wait for the first snapshot before `ready()` settles. Default 5 000 ms. */
  initTimeoutMs?: number;
  /** Reconnect delays: full jitter up to `min(maxMs, minMs · 2^attempt)`. */
  backoff?: BackoffOptions;
  /** Listener errors and skipped frames. Default: `console.warn`. */
  onWarning?: (message: string, error?: unknown) => void;
  /** Timers (tests pass ones they control). Default: the host's. */
  timers?: Timers;
  /** Random numbers in [0, 1) for the backoff jitter. Default: `Math.random`. */
  random?: () => number;
}

export class VexilClient {
  readonly #engine = new Engine();
  readonly #changes = new Listeners<ChangeEvent>();
  readonly #states = new Listeners<StateEvent>();
  readonly #warn: (message: string, error?: unknown) => void;
  readonly #timers: Timers;
  #state: ProviderState = "NOT_READY";
  #stream: Stream | undefined;
  #initTimer: unknown;
  /** The last version received from the stream (never a bootstrap's). */
  #streamVersion: number | undefined;
  #hasBootstrap = false;
  /** Set while the regex module loads for a snapshot with `matches` clauses. */
  #regexLoading: Promise<void> | undefined;
  #closed = false;

  /**
   * Starts streaming at once; `await client.ready()` for the first
   * snapshot. Throws `VexilError` (`INVALID_SNAPSHOT`) on a bad bootstrap
   * and `TypeError` on missing options.
   */
  constructor(options: ClientOptions) {
    this.#warn = options.onWarning ?? ((message, error) => console.warn(`vexil: ${message}`, error ?? ""));
    this.#timers = options.timers ?? HOST_TIMERS;
    if (options.bootstrap !== undefined) {
      this.#engine.install(options.bootstrap);
      this.#hasBootstrap = true;
      if (this.#engine.awaitingRegex) {
        this.#awaitRegex();
      }
    }
    if (options.offline === true) {
      if (!this.#hasBootstrap) {
        throw new TypeError("an offline client needs a bootstrap snapshot");
      }
      if (this.#regexLoading === undefined) {
        this.#state = "READY";
      }
      return;
    }
    if (options.url === undefined || options.sdkKey === undefined) {
      throw new TypeError("a streaming client needs url and sdkKey");
    }
    const webSocket = options.webSocket ?? hostWebSocket();
    if (webSocket === undefined) {
      throw new TypeError("no WebSocket in this runtime: pass options.webSocket (e.g. the `ws` package's)");
    }
    this.#stream = new Stream(
      {
        url: streamUrl(options.url),
        sdkKey: options.sdkKey,
        webSocket,
        timers: this.#timers,
        backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
        random: options.random ?? Math.random,
      },
      {
        resumeVersion: () => this.#streamVersion,
        snapshot: (frame) => {
          const flags = this.#engine.install(frame);
          this.#streamVersion = this.#engine.version;
          this.#installed(flags);
        },
        patch: (frame) => {
          const flags = this.#engine.applyPatch(frame);
          this.#streamVersion = this.#engine.version;
          this.#installed(flags);
        },
        resumed: () => {
          if (this.#regexLoading === undefined) {
            this.#setState("READY");
          }
        },
        disconnected: (why) => {
          if (this.#state === "READY") {
            this.#setState("STALE");
          }
          void why;
        },
        rejected: (code) => {
          this.#warn(`the server refused the SDK key (${code}); not reconnecting`);
          this.#setState("ERROR");
        },
        warn: (message) => this.#warn(message),
      },
    );
    this.#initTimer = this.#timers.setTimeout(() => {
      this.#initTimer = undefined;
      if (this.#state === "NOT_READY") {
        this.#setState(this.#hasBootstrap ? "STALE" : "ERROR");
      }
    }, options.initTimeoutMs ?? 5_000);
    this.#stream.start();
  }

  /** OpenFeature/flagd state: `NOT_READY`, `READY`, `STALE` or `ERROR`. */
  get state(): ProviderState {
    return this.#state;
  }

  /** The environment version served, `undefined` before any snapshot. */
  get version(): number | undefined {
    return this.#engine.version;
  }

  /**
   * Settles once the client leaves `NOT_READY`: `READY` on the first
   * snapshot; `STALE` (serving a bootstrap) or `ERROR` (serving defaults)
   * when the init timeout passes first, or the key is refused. Streaming
   * carries on either way.
   */
  ready(): Promise<ProviderState> {
    if (this.#state !== "NOT_READY") {
      return Promise.resolve(this.#state);
    }
    return new Promise((resolve) => {
      const off = this.#states.add(({ state }) => {
        off();
        resolve(state);
      });
    });
  }

  /** Calls `listener` after each snapshot or patch with the flags that may have changed. */
  onChange(listener: Listener<ChangeEvent>): () => void {
    return this.#changes.add(listener);
  }

  /** Calls `listener` on each state change. */
  onStateChange(listener: Listener<StateEvent>): () => void {
    return this.#states.add(listener);
  }

  /**
   * Parses `context` once for many evaluations: typed `*Value` calls with
   * it parse and serialize nothing (the fast path). Throws `VexilError`
   * (`INVALID_CONTEXT`) on a context the engine refuses.
   */
  prepare(context: EvaluationContext): PreparedContext {
    return new PreparedContext(context);
  }

  /** One flag's full result, as the server's evaluate API returns it. */
  evaluate(flagKey: string, context: Ctx): EvaluationResult {
    try {
      return this.#engine.evaluate(flagKey, context);
    } catch (error) {
      this.#warn(`cannot evaluate ${flagKey}`, error);
      return { flag: flagKey, reason: "ERROR", error_code: "INVALID_CONTEXT" };
    }
  }

  /** Every flag's result, in snapshot order. */
  evaluateAll(context: Ctx): EvaluationResult[] {
    try {
      return this.#engine.evaluateAll(context);
    } catch (error) {
      this.#warn("cannot evaluate", error);
      return [];
    }
  }

  boolValue(flagKey: string, context: Ctx, defaultValue: boolean): boolean {
    return this.#value(flagKey, context, defaultValue, isBoolean);
  }
  boolDetails(flagKey: string, context: Ctx, defaultValue: boolean): Details<boolean> {
    return details(this.evaluate(flagKey, context), defaultValue, isBoolean);
  }
  stringValue(flagKey: string, context: Ctx, defaultValue: string): string {
    return this.#value(flagKey, context, defaultValue, isString);
  }
  stringDetails(flagKey: string, context: Ctx, defaultValue: string): Details<string> {
    return details(this.evaluate(flagKey, context), defaultValue, isString);
  }
  numberValue(flagKey: string, context: Ctx, defaultValue: number): number {
    return this.#value(flagKey, context, defaultValue, isNumber);
  }
  numberDetails(flagKey: string, context: Ctx, defaultValue: number): Details<number> {
    return details(this.evaluate(flagKey, context), defaultValue, isNumber);
  }
  jsonValue(flagKey: string, context: Ctx, defaultValue: JsonValue): JsonValue {
    return this.#value(flagKey, context, defaultValue, isJson);
  }
  jsonDetails(flagKey: string, context: Ctx, defaultValue: JsonValue): Details<JsonValue> {
    return details(this.evaluate(flagKey, context), defaultValue, isJson);
  }

  /**
   * Stops streaming. The state is `NOT_READY` (OpenFeature's state after
   * shutdown); evaluations still serve the last snapshot.
   */
  close(): void {
    this.#closed = true;
    this.#stream?.stop();
    this.#stream = undefined;
    if (this.#initTimer !== undefined) {
      this.#timers.clearTimeout(this.#initTimer);
      this.#initTimer = undefined;
    }
    this.#setState("NOT_READY");
  }

  /** A typed value: the fast path for a prepared context, else the details. */
  #value<T>(flagKey: string, context: Ctx, defaultValue: T, accepts: (value: unknown) => value is T): T {
    if (context instanceof PreparedContext) {
      const value = this.#engine.valueOf(flagKey, context);
      return accepts(value) ? value : defaultValue;
    }
    return details(this.evaluate(flagKey, context), defaultValue, accepts).value;
  }

  /**
   * After a snapshot or patch: `READY` and a change event, unless it needs
   * the regex module, which is then loaded first (its `matches` flags fail
   * closed meanwhile).
   */
  #installed(flags: string[]): void {
    if (this.#engine.awaitingRegex) {
      this.#awaitRegex();
      return;
    }
    if (this.#regexLoading === undefined) {
      this.#setState("READY");
    }
    this.#changed(flags);
  }

  /**
   * Loads the regex module once, compiles the snapshot served again, then
   * reports every flag as changed and becomes `READY` (unless closed, or
   * no snapshot came from the stream yet). If the module cannot load, the
   * `matches` flags keep serving defaults and the client carries on.
   */
  #awaitRegex(): void {
    this.#regexLoading ??= loadRegex().then(
      () => this.#regexReady(),
      (error: unknown) => {
        this.#warn("cannot load the regex module: flags with matches clauses serve their defaults", error);
        this.#regexReady();
      },
    );
  }

  #regexReady(): void {
    this.#regexLoading = undefined;
    const flags = this.#engine.recompile();
    if (this.#closed) {
      return;
    }
    if (this.#stream === undefined || this.#streamVersion !== undefined) {
      this.#setState("READY");
    }
    this.#changed(flags);
  }

  #setState(state: ProviderState): void {
    const previous = this.#state;
    if (previous === state) {
      return;
    }
    this.#state = state;
    if (this.#initTimer !== undefined) {
      this.#timers.clearTimeout(this.#initTimer);
      this.#initTimer = undefined;
    }
    this.#states.emit({ state, previous }, (error) => this.#warn("a state listener threw", error));
  }

  #changed(flags: string[]): void {
    const version = this.#engine.version ?? 0;
    this.#changes.emit({ version, flags }, (error) => this.#warn("a change listener threw", error));
  }
}
