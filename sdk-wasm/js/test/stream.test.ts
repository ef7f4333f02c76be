// The stream against a real WebSocket server the test scripts: hello with
// the key as subprotocol, snapshots and patches, gaps, refusals, goodbye,
// backoff, and serving while disconnected. Timers are the test's.

import assert from "node:assert/strict";
import { afterEach, before, beforeEach, test } from "node:test";

import { VexilClient, type ChangeEvent, type ProviderState } from "../dist/index.js";
import { booleanFlag, loadEngine, ManualTimers, ScriptedServer, snapshot, until } from "./support.js";

before(loadEngine);

let server: ScriptedServer;
let timers: ManualTimers;
const clients: VexilClient[] = [];
const user = { key: "user-1" };

beforeEach(async () => {
  server = await ScriptedServer.start();
  timers = new ManualTimers();
});

afterEach(async () => {
  for (const client of clients.splice(0)) {
    client.close();
  }
  await server.stop();
});

/** An init timeout far beyond every other timer, so tests can tell reconnects apart. */
const INIT_MS = 3_600_000;

/** The delays of pending timers other than the init timeout: the reconnect, once disconnected. */
function reconnectDelays(): number[] {
  return timers.pendingDelays().filter((ms) => ms < 60_000);
}

/** A client of the scripted server; `random` fixes the jitter at half the ceiling. */
function client(initTimeoutMs = INIT_MS): { client: VexilClient; changes: ChangeEvent[]; states: ProviderState[]; warnings: string[] } {
  const changes: ChangeEvent[] = [];
  const states: ProviderState[] = [];
  const warnings: string[] = [];
  const client = new VexilClient({
    url: server.url,
    sdkKey: "key.part.two",
    webSocket: WebSocket,
    timers,
    initTimeoutMs,
    random: () => 0.5,
    backoff: { minMs: 100, maxMs: 1_000 },
    onWarning: (message) => warnings.push(message),
  });
  client.onChange((event) => changes.push(event));
  client.onStateChange(({ state }) => states.push(state));
  clients.push(client);
  return { client, changes, states, warnings };
}

test("hello, snapshot, patch: READY and change events naming the flags", async () => {
  const { client: c, changes, states } = client();
  const peer = await server.peer(1);
  assert.deepEqual(peer.protocols, ["vexil.key.part.two"]);
  assert.deepEqual(peer.frames[0], { type: "hello", sdk: "vexil-sdk-js", sdk_version: "0.1.0" });

  peer.send({ type: "snapshot", ...snapshot(5, [booleanFlag("a", false), booleanFlag("b", false)]) });
  assert.equal(await c.ready(), "READY");
  assert.deepEqual(changes, [{ version: 5, flags: ["a", "b"] }]);
  assert.equal(c.boolValue("b", user, true), false);

  peer.send({ type: "patch", from_version: 5, to_version: 6, upserts: [{ flag: booleanFlag("b", true) }], deletes: [] });
  await until("the patch", () => changes.length === 2);
  assert.deepEqual(changes[1], { version: 6, flags: ["b"] });
  assert.equal(c.boolValue("b", user, false), true);
  assert.equal(c.boolValue("b", c.prepare(user), false), true, "the fast path sees the patch");
  assert.equal(c.version, 6);

  peer.send({ type: "patch", from_version: 6, to_version: 7, upserts: [], deletes: [{ flag: "a" }] });
  await until("the delete", () => changes.length === 3);
  assert.deepEqual(changes[2], { version: 7, flags: ["a"] });
  assert.equal(c.boolValue("a", c.prepare(user), true), true, "a deleted flag: the default");
  assert.equal(c.boolDetails("a", user, true).errorCode, "FLAG_NOT_FOUND");
  assert.deepEqual(states, ["READY"]);

  peer.send({ type: "ping" });
  await until("the pong", () => peer.frames.length === 2);
  assert.deepEqual(peer.frames[1], { type: "pong" });
});

test("a patch out of sequence is not applied: the client resumes from its version", async () => {
  const { client: c, changes, states } = client();
  const first = await server.peer(1);
  first.send({ type: "snapshot", ...snapshot(5, [booleanFlag("a", false)]) });
  await c.ready();
  first.send({ type: "patch", from_version: 7, to_version: 8, upserts: [{ flag: booleanFlag("a", true) }], deletes: [] });
  await until("the client to leave", () => first.closed);
  assert.equal(c.version, 5);
  assert.equal(c.boolValue("a", user, true), false, "still serving version 5");
  assert.equal(c.state, "STALE");
  // First reconnect: full jitter of min(1000, 100 · 2^0) with random 0.5.
  assert.deepEqual(reconnectDelays(), [50]);
  timers.advance(50);
  const second = await server.peer(2);
  assert.deepEqual(second.frames[0], { type: "hello", sdk: "vexil-sdk-js", sdk_version: "0.1.0", since_version: 5 });
  assert.equal(c.state, "READY", "resumed on the server's word");
  second.send({ type: "patch", from_version: 5, to_version: 6, upserts: [{ flag: booleanFlag("a", true) }], deletes: [] });
  await until("the patch", () => changes.length === 2);
  assert.equal(c.boolValue("a", user, false), true);
  assert.deepEqual(states, ["READY", "STALE", "READY"]);
});

test("lost connections back off exponentially with jitter; a good frame resets it", async () => {
  const { client: c } = client();
  const delays: number[] = [];
  for (let n = 1; n <= 5; n++) {
    const peer = await server.peer(n);
    peer.socket.terminate();
    await until(`reconnect ${n} to be scheduled`, () => reconnectDelays().length === 1);
    const [delay] = reconnectDelays();
    delays.push(delay as number);
    timers.advance(delay as number);
  }
  // Ceilings 100, 200, 400, 800, 1000 (the cap), halved by random 0.5.
  assert.deepEqual(delays, [50, 100, 200, 400, 500]);
  assert.equal(c.state, "NOT_READY", "never had data");

  const peer = await server.peer(6);
  peer.send({ type: "snapshot", ...snapshot(1, [booleanFlag("a", true)]) });
  await c.ready();
  peer.socket.terminate();
  await until("a reconnect to be scheduled", () => reconnectDelays().length === 1);
  assert.deepEqual(reconnectDelays(), [50]);
  assert.equal(c.state, "STALE");
  assert.equal(c.boolValue("a", user, false), true, "serves while disconnected");
});

test("goodbye is honoured exactly", async () => {
  const { client: c } = client();
  const peer = await server.peer(1);
  peer.send({ type: "snapshot", ...snapshot(2, []) });
  await c.ready();
  peer.send({ type: "goodbye", reason: "restarting", reconnect_after_ms: 1234 });
  await until("the client to leave", () => peer.closed);
  assert.deepEqual(reconnectDelays(), [1234]);
  timers.advance(1233);
  assert.equal(server.peers.length, 1);
  timers.advance(1);
  const second = await server.peer(2);
  assert.equal(second.frames[0]?.since_version, 2);
});

test("a refused key is final: ERROR, no reconnect", async () => {
  const { client: c, states, warnings } = client();
  const peer = await server.peer(1);
  peer.socket.close(4403, "revoked");
  await until("ERROR", () => c.state === "ERROR");
  assert.deepEqual(timers.pendingDelays(), [], "no reconnect, and the init timer is gone");
  assert.deepEqual(states, ["ERROR"]);
  assert.match(warnings.join("\n"), /refused the SDK key \(4403\)/);
  assert.equal(await c.ready(), "ERROR");
});

test("a silent server is left after 45 s; the client pings every 15 s", async () => {
  const { client: c } = client();
  const peer = await server.peer(1);
  peer.send({ type: "snapshot", ...snapshot(1, []) });
  await c.ready();
  timers.advance(15_000);
  await until("the client's ping", () => peer.frames.length === 2);
  assert.deepEqual(peer.frames[1], { type: "ping" });
  timers.advance(29_999);
  assert.equal(c.state, "READY");
  timers.advance(1);
  assert.equal(c.state, "STALE");
  await until("the client to leave", () => peer.closed);
});

test("frames the client does not understand are skipped with a warning", async () => {
  const { client: c, warnings } = client();
  const peer = await server.peer(1);
  peer.send({ type: "snapshot", ...snapshot(1, [booleanFlag("a", true)]) });
  await c.ready();
  peer.socket.send("not json");
  peer.send({ type: "future-frame" });
  peer.send({ type: "snapshot", environment: 3 });
  peer.send({ type: "ping" });
  await until("the pong after them", () => peer.frames.length === 2);
  assert.equal(c.state, "READY");
  assert.equal(c.boolValue("a", user, false), true);
  assert.equal(warnings.length, 3, warnings.join("\n"));
});

test("without data by the init timeout: ERROR, and READY when a snapshot comes", async () => {
  const { client: c, states } = client(5_000);
  const peer = await server.peer(1);
  timers.advance(5_000);
  assert.equal(await c.ready(), "ERROR");
  peer.send({ type: "snapshot", ...snapshot(1, []) });
  await until("READY", () => c.state === "READY");
  assert.deepEqual(states, ["ERROR", "READY"]);
});
