// Against the real `vexil` binary: connect, receive a change, survive a
// server restart (resuming from the version held, no fresh snapshot), and
// stop on a revoked key. Node's own WebSocket; real timers, but no test
// waits on time: each waits for an event, with a deadline that only fails it.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { VexilClient, type ChangeEvent, type ProviderState } from "../dist/index.js";
import { loadEngine, until } from "./support.js";
import { VexilServer } from "./server.js";

let server: VexilServer;

before(async () => {
  await loadEngine();
  server = await VexilServer.start();
});

after(async () => {
  await server?.dispose();
});

const user = { key: "user-1" };

test("streams changes, serves through a restart, resumes where it was", async () => {
  const api = await server.login();
  await api.createFlag("checkout");
  const { token } = await api.sdkKey("js-e2e");

  const changes: ChangeEvent[] = [];
  const states: ProviderState[] = [];
  const client = new VexilClient({
    url: server.base,
    sdkKey: token,
    webSocket: WebSocket,
    backoff: { minMs: 10, maxMs: 100 },
    initTimeoutMs: 20_000,
  });
  client.onChange((event) => changes.push(event));
  client.onStateChange(({ state }) => states.push(state));
  try {
    assert.equal(await client.ready(), "READY");
    assert.equal(client.boolValue("checkout", user, true), false, "created off");
    const first = client.version as number;

    await api.toggle("checkout", true);
    await until("the toggle to reach the client", () => changes.some((c) => c.version > first));
    assert.deepEqual(changes.at(-1), { version: first + 1, flags: ["checkout"] });
    assert.equal(client.boolValue("checkout", user, false), true);

    await server.stop();
    await until("the client to notice", () => client.state === "STALE");
    assert.equal(client.boolValue("checkout", user, false), true, "serves while disconnected");

    await server.restart();
    await until("the client to reconnect", () => client.state === "READY");
    const restarted = await server.login();
    await restarted.toggle("checkout", false);
    await until("the change after the restart", () => changes.some((c) => c.version === first + 2));
    assert.equal(client.boolValue("checkout", user, true), false);
    assert.deepEqual(
      changes.map((c) => c.version),
      [first, first + 1, first + 2],
      "one snapshot, then every version in order",
    );
    // The restarted process sent this client patches only: it resumed.
    assert.equal(await server.metric('vexil_stream_frames_sent_total{kind="snapshot"}'), 0);
    assert.equal(await server.metric('vexil_stream_frames_sent_total{kind="patch"}'), 1);
    assert.deepEqual(states, ["READY", "STALE", "READY"]);
  } finally {
    client.close();
  }
});

test("a revoked key turns the client to ERROR, still serving", async () => {
  const api = await server.login();
  await api.createFlag("revoked-demo");
  await api.toggle("revoked-demo", true);
  const { id, token } = await api.sdkKey("js-e2e-revoked");
  const client = new VexilClient({ url: server.base, sdkKey: token, webSocket: WebSocket, initTimeoutMs: 20_000 });
  try {
    assert.equal(await client.ready(), "READY");
    await api.revoke(id);
    await until("ERROR", () => client.state === "ERROR");
    assert.equal(client.boolValue("revoked-demo", user, false), true);
  } finally {
    client.close();
  }
});
