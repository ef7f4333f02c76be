// The client without a stream: typed values, errors as defaults, bad input
// refused with a typed error.

import assert from "node:assert/strict";
import { before, test } from "node:test";

import { isVexilError, VexilClient } from "../dist/index.js";
import { booleanFlag, loadEngine, snapshot, stringFlag } from "./support.js";

before(loadEngine);

const user = { key: "user-1", attributes: { plan: "pro" } };

function offline(): VexilClient {
  return new VexilClient({
    offline: true,
    bootstrap: JSON.stringify(snapshot(3, [booleanFlag("checkout", true), stringFlag("banner", "hello")])),
  });
}

test("an offline client serves its bootstrap, READY", () => {
  const client = offline();
  assert.equal(client.state, "READY");
  assert.equal(client.version, 3);
  assert.equal(client.boolValue("checkout", user, false), true);
  assert.equal(client.stringValue("banner", user, "x"), "hello");
  assert.deepEqual(client.boolDetails("checkout", user, false), {
    flagKey: "checkout",
    value: true,
    variant: "on",
    reason: "DEFAULT",
  });
  assert.deepEqual(
    client.evaluateAll(user).map((r) => r.flag),
    ["checkout", "banner"],
  );
});

test("a missing flag or another type gives the default with the reason", () => {
  const client = offline();
  assert.deepEqual(client.boolDetails("nope", user, false), {
    flagKey: "nope",
    value: false,
    reason: "ERROR",
    errorCode: "FLAG_NOT_FOUND",
  });
  const mismatch = client.numberDetails("banner", user, 7);
  assert.equal(mismatch.value, 7);
  assert.equal(mismatch.errorCode, "TYPE_MISMATCH");
  assert.deepEqual(client.jsonValue("banner", user, null), "hello");
});

test("a context the engine refuses gives the default and a warning, never a throw", () => {
  const warnings: string[] = [];
  const client = new VexilClient({
    offline: true,
    bootstrap: JSON.stringify(snapshot(1, [booleanFlag("checkout", true)])),
    onWarning: (message) => warnings.push(message),
  });
  // A nested object is not an attribute value.
  const bad = { key: "u", attributes: { nested: { a: 1 } } } as unknown as typeof user;
  const details = client.boolDetails("checkout", bad, false);
  assert.equal(details.value, false);
  assert.equal(details.errorCode, "INVALID_CONTEXT");
  assert.deepEqual(warnings, ["cannot evaluate checkout"]);
});

test("a bad bootstrap throws a VexilError with a stable code", () => {
  assert.throws(
    () => new VexilClient({ offline: true, bootstrap: '{"environment": 1}' }),
    (error: unknown) => isVexilError(error) && error.code === "INVALID_SNAPSHOT",
  );
  assert.throws(() => new VexilClient({ offline: true }), TypeError);
  assert.throws(() => new VexilClient({ url: "ftp://x", sdkKey: "k", webSocket: WebSocket }), TypeError);
});

test("close leaves the client NOT_READY, still serving", () => {
  const client = offline();
  client.close();
  assert.equal(client.state, "NOT_READY");
  assert.equal(client.boolValue("checkout", user, false), true);
});

test("a prepared context gives the same typed values, without parsing per call", () => {
  const client = offline();
  const prepared = client.prepare(user);
  assert.equal(prepared.key, "user-1");
  assert.equal(client.boolValue("checkout", prepared, false), true);
  assert.equal(client.stringValue("banner", prepared, "x"), "hello");
  assert.equal(client.numberValue("banner", prepared, 7), 7, "another type: the default");
  assert.equal(client.boolValue("nope", prepared, true), true, "a missing flag: the default");
  assert.deepEqual(client.boolDetails("checkout", prepared, false), client.boolDetails("checkout", user, false));
  assert.deepEqual(client.evaluateAll(prepared), client.evaluateAll(user));
  assert.throws(
    () => client.prepare({ key: "u", attributes: { nested: { a: 1 } } } as unknown as typeof user),
    (error: unknown) => isVexilError(error) && error.code === "INVALID_CONTEXT",
  );
});
