// Loading the WebAssembly engine once per process or page, and the regex
// module when a snapshot needs it.

import initWasm, { engineMemory, initSync, installRegex, VexilContext, VexilSnapshot } from "../wasm/vexil_wasm.js";
import initRegexWasm, * as regexModule from "../wasm/vexil_wasm_regex.js";

export { VexilContext, VexilSnapshot };

/**
 * What the engine can be loaded from: the `.wasm` bytes, a compiled
 * `WebAssembly.Module` (edge workers import one), a URL, or a `Response`.
 */
export type WasmSource = BufferSource | WebAssembly.Module | URL | string | Response;

let loading: Promise<void> | undefined;
let loaded = false;
let regexLoading: Promise<void> | undefined;
let regexLoaded = false;

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

/**
 * Loads the regex module and installs it into the engine: `matches`
 * clauses need it. The engine module links no regex engine (it would more
 * than double its size), so until this finishes a flag with a `matches`
 * clause fails closed: it serves the caller's default with `PARSE_ERROR`.
 * `VexilClient` calls this by itself when a snapshot has such a clause,
 * and becomes `READY` after; code that compiles a `VexilSnapshot` itself
 * awaits it first (or calls `snapshot.recompile()` after). Without
 * `source`, Node reads `wasm/vexil_wasm_regex_bg.wasm` from this package
 * and browsers fetch it from beside the package's JavaScript. Later calls
 * return the first call's promise.
 */
export function loadRegex(source?: WasmSource): Promise<void> {
  regexLoading ??= loadRegexModule(source).then(
    () => {
      regexLoaded = true;
    },
    (error: unknown) => {
      regexLoading = undefined;
      throw error;
    },
  );
  return regexLoading;
}

/** Whether `loadRegex` finished: `matches` clauses compile. */
export function isRegexLoaded(): boolean {
  return regexLoaded;
}

async function loadRegexModule(source: WasmSource | undefined): Promise<void> {
  assertLoaded();
  if (source === undefined && isNode()) {
    regexModule.initSync({ module: await readPackageFile("../wasm/vexil_wasm_regex_bg.wasm") });
  } else {
    await initRegexWasm(source === undefined ? undefined : { module_or_path: source });
  }
  installRegex(regexHost());
}

/**
 * What the engine calls for a `matches` clause. The haystack comes as the
 * address and length of its UTF-8 bytes in the engine's memory; they are
 * copied into the regex module's input buffer, byte by byte when short
 * (no allocation), and searched there: nothing is decoded to a string.
 */
function regexHost(): {
  compile(pattern: string): number;
  isMatch(handle: number, address: number, len: number): boolean;
  release(handle: number): void;
} {
  const from = engineMemory() as WebAssembly.Memory;
  const to = regexModule.regexMemory() as WebAssembly.Memory;
  let fromBytes = new Uint8Array(from.buffer);
  let toBytes = new Uint8Array(to.buffer);
  let input = 0;
  let room = 0;
  return {
    compile: (pattern) => regexModule.compile(pattern),
    release: (handle) => regexModule.release(handle),
    isMatch(handle, address, len) {
      if (len > room) {
        input = regexModule.input(len);
        room = len;
      }
      // A memory that grew detached its old buffer, and views of it are
      // empty (reading `memory.buffer` on every call is slower).
      if (fromBytes.byteLength === 0) fromBytes = new Uint8Array(from.buffer);
      if (toBytes.byteLength === 0) toBytes = new Uint8Array(to.buffer);
      if (len <= 64) {
        for (let i = 0; i < len; i++) toBytes[input + i] = fromBytes[address + i]!;
      } else {
        toBytes.set(fromBytes.subarray(address, address + len), input);
      }
      return regexModule.isMatchInput(handle, len);
    },
  };
}

async function load(source: WasmSource | undefined): Promise<void> {
  if (source === undefined && isNode()) {
    initSync({ module: await readPackageFile("../wasm/vexil_wasm_bg.wasm") });
    return;
  }
  await initWasm(source === undefined ? undefined : { module_or_path: source });
}

/** A file of this package, read with Node's `fs`. */
async function readPackageFile(path: string): Promise<Uint8Array> {
  // A computed specifier: bundlers for browsers leave it alone, and the
  // package needs no Node type definitions.
  const specifier = "node:fs/promises";
  const fs = (await import(specifier)) as NodeFs;
  return fs.readFile(new URL(path, import.meta.url));
}

interface NodeFs {
  readFile(path: URL): Promise<Uint8Array>;
}

function isNode(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof process?.versions?.node === "string";
}
