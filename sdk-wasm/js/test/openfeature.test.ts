// The OpenFeature web provider through the real @openfeature/web-sdk: values,
// reasons and metadata, errors as defaults, context mapping, and provider
// events from the client's state and changes (scripted server, test timers).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { OpenFeature, ProviderEvents, type EventDetails } from "@openfeature/web-sdk";

import { VexilClient } from "../dist/index.js";
import { toContext, VexilWebProvider } from "../dist/openfeature.js";
import { booleanFlag, loadEngine, ManualTimers, ScriptedServer, snapshot, stringFlag, until } from "./support.js";

before(loadEngine);
after(async () => {
  await OpenFeature.close();
});

const targeted = {
  key: "beta",
  kind: "string",
  variants: [
    { key: "yes", value: "beta" },
    { key: "no", value: "stable" },
  ],
  config: {
    enabled: true,
    off_variant: "no",
    rules: [{ id: "pro-plan", clauses: [{ attribute: "plan", op: "in", values: ["pro"] }], serve: { variant: "yes" } }],
    default_serve: { variant: "no" },
  },
};

test("resolves values, variants, reasons and metadata; errors give the default", async () => {
  const client = new VexilClient({
    offline: true,
    bootstrap: JSON.stringify(snapshot(1, [booleanFlag("checkout", true), targeted, stringFlag("banner", "hi")])),
  });
  await OpenFeature.setProviderAndWait("offline", new VexilWebProvider(client));
  await OpenFeature.setContext("offline", { targetingKey: "user-1", plan: "pro", kind: "user" });
  const of = OpenFeature.getClient("offline");

  assert.equal(of.getBooleanValue("checkout", false), true);
  const beta = of.getStringDetails("beta", "none");
  assert.equal(beta.value, "beta");
  assert.equal(beta.variant, "yes");
  assert.equal(beta.reason, "TARGETING_MATCH");
  assert.deepEqual(beta.flagMetadata, { rule_id: "pro-plan" });

  const missing = of.getBooleanDetails("nope", true);
  assert.equal(missing.value, true);
  assert.equal(missing.errorCode, "FLAG_NOT_FOUND");
  const mismatch = of.getNumberDetails("banner", 3);
  assert.equal(mismatch.value, 3);
  assert.equal(mismatch.errorCode, "TYPE_MISMATCH");
  assert.deepEqual(of.getObjectValue("banner", { a: 1 }), { a: 1 }, "a string is not an object");

  await OpenFeature.setContext("offline", { targetingKey: "user-1", profile: { nested: true } });
  assert.equal(of.getBooleanDetails("checkout", false).errorCode, "INVALID_CONTEXT");
});

test("context mapping: targeting key, kind, dates, lists", () => {
  const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.deepEqual(toContext({ targetingKey: "u", kind: "org", seen: at, tags: ["a", 1, true], plan: "pro" }), {
    key: "u",
    kind: "org",
    attributes: { seen: "2026-01-02T03:04:05.000Z", tags: ["a", 1, true], plan: "pro" },
  });
  assert.deepEqual(toContext({}), { key: "" });
  assert.match(toContext({ list: [{ a: 1 }] }) as string, /^list: lists may hold only/);
  assert.match(toContext({ gone: null }) as string, /^gone: structure attributes/);
});

test("stream changes and states become provider events", async () => {
  const server = await ScriptedServer.start();
  const timers = new ManualTimers();
  const client = new VexilClient({
    url: server.url,
    sdkKey: "k",
    webSocket: WebSocket,
    timers,
    random: () => 0,
    initTimeoutMs: 3_600_000,
  });
  const events: Array<[string, EventDetails | undefined]> = [];
  const provider = new VexilWebProvider(client);
  const ready = OpenFeature.setProviderAndWait("streamed", provider);
  const peer = await server.peer(1);
  peer.send({ type: "snapshot", ...snapshot(1, [booleanFlag("checkout", false)]) });
  await ready;
  const of = OpenFeature.getClient("streamed");
  for (const event of [ProviderEvents.ConfigurationChanged, ProviderEvents.Stale, ProviderEvents.Ready]) {
    of.addHandler(event, (details) => events.push([event, details]));
  }
  // The web SDK runs a READY handler added to a ready provider at once.
  await until("the immediate READY", () => events.length === 1);
  events.length = 0;

  peer.send({ type: "patch", from_version: 1, to_version: 2, upserts: [{ flag: booleanFlag("checkout", true) }], deletes: [] });
  await until("the change event", () => events.length === 1);
  assert.equal(events[0]?.[0], ProviderEvents.ConfigurationChanged);
  assert.deepEqual(events[0]?.[1]?.flagsChanged, ["checkout"]);
  assert.equal(of.getBooleanValue("checkout", false), true);

  peer.socket.terminate();
  await until("STALE", () => events.length === 2);
  assert.equal(events[1]?.[0], ProviderEvents.Stale);
  assert.equal(of.getBooleanValue("checkout", false), true, "stale values still served");
  timers.advance(0);
  await server.peer(2);
  await until("READY again", () => events.length === 3);
  assert.equal(events[2]?.[0], ProviderEvents.Ready);

  await OpenFeature.clearProviders();
  assert.equal(client.state, "NOT_READY", "closing the provider closes the client");
  await server.stop();
});
