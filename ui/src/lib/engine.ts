// The "who gets what" preview's engine: Vexil's evaluation engine compiled to
// WebAssembly (`@vexil/sdk`, built from `sdk-wasm`), the same code every SDK
// runs. Loaded on first use, in its own chunk, so pages without a preview
// never download it; its regex module only once a previewed flag or segment
// has a `matches` clause.

import type { Context, EvaluationResult } from './types';

type Sdk = typeof import('@vexil/sdk');

let loading: Promise<Sdk> | undefined;

function sdk(): Promise<Sdk> {
  loading ??= import('@vexil/sdk').then(
    async (module) => {
      await module.init();
      return module;
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/** What the engine made of one flag for one context, and from which snapshot. */
export interface LocalEvaluation {
  result: EvaluationResult;
  /** The snapshot's version: the saved targeting it evaluated. */
  version: number;
}

/**
 * Evaluates `flag` for `context` against `snapshotJson` (an environment's
 * snapshot as SDKs receive it) in this browser. Throws the engine's typed
 * error (`INVALID_SNAPSHOT`, `INVALID_CONTEXT`) as an `Error`.
 */
export async function evaluateLocally(
  snapshotJson: string,
  flag: string,
  context: Context,
): Promise<LocalEvaluation> {
  const { VexilSnapshot, isRegexLoaded, loadRegex } = await sdk();
  const snapshot = new VexilSnapshot(snapshotJson);
  try {
    if (snapshot.usesRegex && !isRegexLoaded()) {
      // `matches` clauses need the engine's regex module, fetched on first use.
      await loadRegex();
      snapshot.recompile();
    }
    const result = JSON.parse(snapshot.evaluate(flag, JSON.stringify(context))) as EvaluationResult;
    return { result, version: snapshot.version };
  } finally {
    snapshot.free();
  }
}
