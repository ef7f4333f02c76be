// The regex module: the engine module links no regex engine, so a snapshot
// with `matches` clauses makes the client load `vexil_wasm_regex_bg.wasm`
// before it says READY. Its own file: the module loads once per process,
// and these tests need a process where it has not loaded yet.

import assert from "node:assert/strict";
import { afterEach, before, beforeEach, test } from "node:test";

import {
  isRegexLoaded,
  loadRegex,
  VexilClient,
  VexilSnapshot,
  type ChangeEvent,
  type ProviderState,
} from "../dist/index.js";
import { booleanFlag, loadEngine, ManualTimers, ScriptedServer, snapshot, until, within } from "./support.js";

before(loadEngine);

let server: ScriptedServer;
const clients: VexilClient[] = [];

beforeEach(async () => {
  server = await ScriptedServer.start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) {
    client.close();
  }
  await server.stop();
});

/** A boolean flag on for contexts whose `email` matches `pattern`. */
function emailFlag(key: string, pattern: string): object {
  const flag = booleanFlag(key, false) as { config: object };
  const rule = { id: "by-email", clauses: [{ attribute: "email", op: "matches", values: [pattern] }], serve: { variant: "on" } };
  return { ...flag, config: { ...flag.config, rules: [rule] } };
}

const staff = { key: "ann", attributes: { email: "ann@example.com" } };
const outsider = { key: "bob", attributes: { email: "bob@example.com.evil" } };
const greek = { key: "eleni", attributes: { email: "ελένη@example.gr" } };

// First in the file: the module is not loaded yet.
test("a streamed snapshot with matches clauses: the client loads the regex module, then READY", async () => {
  assert.equal(isRegexLoaded(), false);
  const timers = new ManualTimers();
  const changes: ChangeEvent[] = [];
  const states: Array<[ProviderState, boolean]> = [];
  const client = new VexilClient({ url: server.url, sdkKey: "k", webSocket: WebSocket, timers, initTimeoutMs: 3_600_000 });
  clients.push(client);
  client.onChange((event) => changes.push(event));
  client.onStateChange(({ state }) => states.push([state, isRegexLoaded()]));
  const peer = await server.peer(1);

  peer.send({ type: "snapshot", ...snapshot(1, [booleanFlag("plain", true), emailFlag("staff", "@example\\.com$")]) });
  assert.equal(await within("READY", client.ready()), "READY");
  assert.deepEqual(states, [["READY", true]], "READY only once the module is in");
  assert.deepEqual(changes, [{ version: 1, flags: ["plain", "staff"] }], "one change event, after the recompile");
  assert.equal(client.boolValue("staff", staff, false), true);
  assert.equal(client.boolValue("staff", client.prepare(staff), false), true, "the fast path too");
  assert.equal(client.boolValue("staff", outsider, true), false);
  assert.deepEqual(client.boolDetails("staff", staff, false), {
    flagKey: "staff",
    value: true,
    variant: "on",
    reason: "TARGETING_MATCH",
    ruleId: "by-email",
  });

  // Later patches compile their patterns at once.
  peer.send({ type: "patch", from_version: 1, to_version: 2, upserts: [{ flag: emailFlag("staff", "@example\\.org$") }], deletes: [] });
  await until("the patch", () => changes.length === 2);
  assert.deepEqual(changes[1], { version: 2, flags: ["staff"] });
  assert.equal(client.boolValue("staff", staff, true), false);
});

test("an offline bootstrap with matches clauses is READY once the module is in", async () => {
  const bootstrap = JSON.stringify(snapshot(4, [emailFlag("greek", "^\\p{Greek}+@")]));
  const client = new VexilClient({ offline: true, bootstrap });
  clients.push(client);
  assert.equal(await client.ready(), "READY");
  assert.equal(client.boolValue("greek", greek, false), true);
  assert.equal(client.boolValue("greek", staff, true), false);
  // Past 64 bytes the haystack is copied in one block rather than byte by byte.
  const long = { key: "x", attributes: { email: `${"ε".repeat(40)}@example.gr` } };
  assert.equal(client.boolValue("greek", long, false), true);
  assert.equal(client.boolValue("greek", client.prepare(long), false), true);
  const longLatin = { key: "y", attributes: { email: `${"e".repeat(80)}ε@example.gr` } };
  assert.equal(client.boolValue("greek", longLatin, true), false);
});

test("a snapshot compiled by hand once the module is in: matches, and an invalid pattern says why", async () => {
  // Loaded by the tests above; loading again is the same promise.
  await loadRegex();
  const json = JSON.stringify(snapshot(2, [emailFlag("bad", "(unclosed"), emailFlag("staff", "@example\\.com$")]));
  const compiled = new VexilSnapshot(json);
  assert.equal(compiled.usesRegex, true);
  const errors = JSON.parse(compiled.compileErrors()) as Array<{ key: string; problem: string }>;
  assert.deepEqual(errors.map((e) => e.key), ["bad"]);
  assert.match(errors[0]!.problem, /regular expression does not compile/);
  const result = JSON.parse(compiled.evaluate("staff", JSON.stringify(staff))) as { value: boolean };
  assert.equal(result.value, true);
  compiled.free();
});
