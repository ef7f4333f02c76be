// @vexil/sdk: Vexil feature flags for browsers, Node and edge workers.
//
// Layout:
// - `wasm`: loading the WebAssembly engine (`init`, `initFromModule`), and
//   the regex module `matches` clauses need (`loadRegex`).
// - `engine`: the installed snapshot over the wasm `VexilSnapshot`.
// - `client`: `VexilClient`: typed local evaluation, state, change events.
// - `stream`: the reconnect loop and its WebSocket sessions.
// - `protocol`: the stream's constants and URL.
// - `socket`: the WebSocket and timer shapes the client accepts.
// - `backoff`: full-jitter exponential reconnect delays.
// - `details`: typed values with their variant and reason.
// - `events`: listener lists.
// - `types`: the engine's and the protocol's JSON shapes.
// - `openfeature` (entry `@vexil/sdk/openfeature`): the OpenFeature web provider.

export {
  init,
  initFromModule,
  isRegexLoaded,
  loadRegex,
  type WasmSource,
  VexilContext,
  VexilSnapshot,
} from "./wasm.js";
export { VexilClient, type ClientOptions, type Ctx } from "./client.js";
export { isVexilError, PreparedContext, type VexilError } from "./engine.js";
export type { Details } from "./details.js";
export type { BackoffOptions } from "./backoff.js";
export type { Timers, WebSocketConstructor, WebSocketLike } from "./socket.js";
export type * from "./types.js";
