// Loading the WebAssembly engine once per process or page.

import initWasm, { initSync, VexilContext, VexilSnapshot } from "../wasm/vexil_wasm.js";

export { VexilContext, VexilSnapshot };

/**
 * What the engine can be loaded from: the `.wasm` bytes, a compiled
 * `WebAssembly.Module` (edge workers import one), a URL, or a `Response`.
 */
export type WasmSource = BufferSource | WebAssembly.Module | URL | string | Response;

let loading: Promise<void> | undefined;
let loaded = false;

/**
 * Loads the engine. Call once before creating a client; later calls return
 * the first call's promise. Without `source`, Node reads
 * `wasm/vexil_wasm_bg.wasm` from this package and browsers fetch it from
 * beside the package's JavaScript.
 */
export function init(source?: WasmSource): Promise<void> {
  loading ??= load(source).then(
    () => {
      loaded = true;
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/** Loads the engine synchronously from bytes or a compiled module. */
export function initFromModule(module: BufferSource | WebAssembly.Module): void {
  initSync({ module });
  loaded = true;
  loading ??= Promise.resolve();
}

/** Throws unless `init` finished: every engine call needs the module. */
export function assertLoaded(): void {
  if (!loaded) {
    throw new Error("the Vexil engine is not loaded: await init() first");
  }
}

async function load(source: WasmSource | undefined): Promise<void> {
  if (source === undefined && isNode()) {
    // A computed specifier: bundlers for browsers leave it alone, and the
    // package needs no Node type definitions.
    const specifier = "node:fs/promises";
    const fs = (await import(specifier)) as NodeFs;
    const bytes = await fs.readFile(new URL("../wasm/vexil_wasm_bg.wasm", import.meta.url));
    initSync({ module: bytes });
    return;
  }
  await initWasm(source === undefined ? undefined : { module_or_path: source });
}

interface NodeFs {
  readFile(path: URL): Promise<Uint8Array>;
}

function isNode(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof process?.versions?.node === "string";
}
