// The installed snapshot: one wasm `VexilSnapshot`, replaced by snapshots
// and moved forward by patches, evaluated with JSON in and out.

import type { EvaluationContext, EvaluationResult, JsonValue } from "./types.js";
import { assertLoaded, isRegexLoaded, VexilContext, VexilSnapshot } from "./wasm.js";

/**
 * A context parsed once by the engine, for many evaluations
 * (`client.prepare(context)`): the typed calls then parse and serialize
 * nothing. Its wasm memory is freed when it is garbage-collected, or at
 * once with `free()`.
 */
export class PreparedContext {
  /** @internal */
  readonly handle: VexilContext;
  /** @internal The context as JSON, for `evaluateAll`. */
  readonly json: string;
  constructor(context: EvaluationContext) {
    assertLoaded();
    this.json = JSON.stringify(context);
    this.handle = new VexilContext(this.json);
  }
  get key(): string {
    return this.handle.key;
  }
  free(): void {
    this.handle.free();
  }
}

/** Each flag's variant values in snapshot order, for the typed fast path. */
type VariantValues = Map<string, JsonValue[]>;

/** The fast path's tables: each flag's index in the engine and its values. */
interface FastPath {
  index: Map<string, number>;
  values: Array<JsonValue[] | undefined>;
}

interface FlagJson {
  key: string;
  variants?: Array<{ key: string; value: JsonValue }>;
}

function variantsOf(flag: FlagJson): JsonValue[] {
  return (flag.variants ?? []).map((variant) => variant.value);
}

/** An error thrown by the engine: `code` is stable, the message says why. */
export interface VexilError extends Error {
  name: "VexilError";
  code: "INVALID_SNAPSHOT" | "INVALID_PATCH" | "VERSION_GAP" | "INVALID_CONTEXT" | "INTERNAL";
}

/** Whether `error` is a `VexilError` the engine threw. */
export function isVexilError(error: unknown): error is VexilError {
  return error instanceof Error && error.name === "VexilError" && "code" in error;
}

export class Engine {
  #snapshot: VexilSnapshot | undefined;
  #values: VariantValues = new Map();
  #fast: FastPath | undefined;

  /** The version served, `undefined` before the first snapshot. */
  get version(): number | undefined {
    return this.#snapshot?.version;
  }

  /** The environment served, `undefined` before the first snapshot. */
  get environment(): string | undefined {
    return this.#snapshot?.environment;
  }

  /**
   * Whether the snapshot served has `matches` clauses and the regex module
   * is not loaded yet: those flags fail closed until `recompile()` after
   * `loadRegex()`.
   */
  get awaitingRegex(): boolean {
    return this.#snapshot !== undefined && !isRegexLoaded() && this.#snapshot.usesRegex;
  }

  /**
   * Compiles the snapshot served again, once the regex module is loaded.
   * Returns every flag key: any of them may evaluate differently now.
   */
  recompile(): string[] {
    if (this.#snapshot === undefined) {
      return [];
    }
    this.#fast = undefined;
    return this.#snapshot.recompile();
  }

  /** The flag keys served, in snapshot order. */
  flagKeys(): string[] {
    return this.#snapshot?.flagKeys() ?? [];
  }

  /**
   * Replaces what is served with a snapshot (JSON text, the stream's frame
   * or `GET /api/v1/snapshot`'s body). Returns the flags whose evaluation
   * may have changed. Throws `INVALID_SNAPSHOT`; what was served stays.
   */
  install(snapshotJson: string): string[] {
    assertLoaded();
    const next = new VexilSnapshot(snapshotJson);
    const previous = this.#snapshot;
    this.#snapshot = next;
    const { flags } = JSON.parse(snapshotJson) as { flags: FlagJson[] };
    this.#values = new Map(flags.map((flag) => [flag.key, variantsOf(flag)]));
    this.#fast = undefined;
    if (previous === undefined) {
      return next.flagKeys().sort();
    }
    const changed = next.changedSince(previous);
    previous.free();
    return changed;
  }

  /**
   * Applies a patch frame in place. Returns the flags whose evaluation may
   * have changed. Throws `VERSION_GAP` or `INVALID_PATCH`; what was served
   * stays.
   */
  applyPatch(patchJson: string): string[] {
    if (this.#snapshot === undefined) {
      throw Object.assign(new Error("patch not applied: no snapshot to patch"), {
        name: "VexilError",
        code: "VERSION_GAP",
      });
    }
    const changed = this.#snapshot.applyPatch(patchJson);
    const patch = JSON.parse(patchJson) as {
      upserts?: Array<{ flag?: FlagJson }>;
      deletes?: Array<{ flag?: string }>;
    };
    for (const { flag } of patch.deletes ?? []) {
      if (flag !== undefined) {
        this.#values.delete(flag);
      }
    }
    for (const { flag } of patch.upserts ?? []) {
      if (flag !== undefined) {
        this.#values.set(flag.key, variantsOf(flag));
      }
    }
    this.#fast = undefined;
    return changed;
  }

  /** The fast path's tables for the snapshot served, built on first use. */
  #fastPath(snapshot: VexilSnapshot): FastPath {
    if (this.#fast === undefined) {
      const keys = snapshot.flagKeys();
      this.#fast = {
        index: new Map(keys.map((key, i) => [key, i])),
        values: keys.map((key) => this.#values.get(key)),
      };
    }
    return this.#fast;
  }

  /**
   * The value served to a prepared context, `undefined` on any error (no
   * snapshot, missing flag, a flag that failed to compile): the typed
   * calls' fast path. `evaluate` says why.
   */
  valueOf(flagKey: string, context: PreparedContext): JsonValue | undefined {
    const snapshot = this.#snapshot;
    if (snapshot === undefined) {
      return undefined;
    }
    const fast = this.#fastPath(snapshot);
    const flag = fast.index.get(flagKey);
    if (flag === undefined) {
      return undefined;
    }
    const variant = snapshot.variantIndexAt(flag, context.handle);
    return variant < 0 ? undefined : fast.values[flag]?.[variant];
  }

  /** Evaluates one flag; `PROVIDER_NOT_READY` before the first snapshot. */
  evaluate(flagKey: string, context: EvaluationContext | PreparedContext): EvaluationResult {
    if (this.#snapshot === undefined) {
      return { flag: flagKey, reason: "ERROR", error_code: "PROVIDER_NOT_READY" };
    }
    const json =
      context instanceof PreparedContext
        ? this.#snapshot.evaluateWith(flagKey, context.handle)
        : this.#snapshot.evaluate(flagKey, JSON.stringify(context));
    return JSON.parse(json) as EvaluationResult;
  }

  /** Evaluates every flag, in snapshot order; empty before the first snapshot. */
  evaluateAll(context: EvaluationContext | PreparedContext): EvaluationResult[] {
    if (this.#snapshot === undefined) {
      return [];
    }
    const json = context instanceof PreparedContext ? context.json : JSON.stringify(context);
    return JSON.parse(this.#snapshot.evaluateAll(json)) as EvaluationResult[];
  }

  /** Frees the wasm memory; evaluations then answer `PROVIDER_NOT_READY`. */
  free(): void {
    this.#snapshot?.free();
    this.#snapshot = undefined;
  }
}
