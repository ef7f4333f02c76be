// The installed snapshot: one wasm `VexilSnapshot`, replaced by snapshots
// and moved forward by patches, evaluated with JSON in and out.

import type { EvaluationContext, EvaluationResult } from "./types.js";
import { assertLoaded, VexilSnapshot } from "./wasm.js";

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

  /** The version served, `undefined` before the first snapshot. */
  get version(): number | undefined {
    return this.#snapshot?.version;
  }

  /** The environment served, `undefined` before the first snapshot. */
  get environment(): string | undefined {
    return this.#snapshot?.environment;
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
    return this.#snapshot.applyPatch(patchJson);
  }

  /** Evaluates one flag; `PROVIDER_NOT_READY` before the first snapshot. */
  evaluate(flagKey: string, context: EvaluationContext): EvaluationResult {
    if (this.#snapshot === undefined) {
      return { flag: flagKey, reason: "ERROR", error_code: "PROVIDER_NOT_READY" };
    }
    return JSON.parse(this.#snapshot.evaluate(flagKey, JSON.stringify(context))) as EvaluationResult;
  }

  /** Evaluates every flag, in snapshot order; empty before the first snapshot. */
  evaluateAll(context: EvaluationContext): EvaluationResult[] {
    if (this.#snapshot === undefined) {
      return [];
    }
    return JSON.parse(this.#snapshot.evaluateAll(JSON.stringify(context))) as EvaluationResult[];
  }

  /** Frees the wasm memory; evaluations then answer `PROVIDER_NOT_READY`. */
  free(): void {
    this.#snapshot?.free();
    this.#snapshot = undefined;
  }
}
