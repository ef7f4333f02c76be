// Loads the wasm-bindgen `nodejs` package given as the first argument and
// evaluates through it: run by `cargo xtask ci` on the release build.
const assert = require("node:assert");
const { VexilSnapshot } = require(process.argv[1]);

const snapshot = new VexilSnapshot(JSON.stringify({
  environment: "production",
  version: 7,
  flags: [{
    key: "new-checkout",
    kind: "boolean",
    variants: [{ key: "on", value: true }, { key: "off", value: false }],
    config: {
      enabled: true,
      off_variant: "off",
      rules: [{
        id: "beta",
        clauses: [{ attribute: "beta", op: "in", values: [true] }],
        serve: { variant: "on" },
      }],
      default_serve: { variant: "off" },
    },
  }],
}));
assert.strictEqual(snapshot.version, 7);
assert.strictEqual(snapshot.environment, "production");

const beta = JSON.parse(snapshot.evaluate("new-checkout", JSON.stringify({ key: "u1", attributes: { beta: true } })));
assert.deepStrictEqual(
  [beta.value, beta.variant, beta.reason, beta.rule_id],
  [true, "on", "TARGETING_MATCH", "beta"],
);
const other = JSON.parse(snapshot.evaluate("new-checkout", JSON.stringify({ key: "u2" })));
assert.deepStrictEqual([other.value, other.reason], [false, "DEFAULT"]);
const missing = JSON.parse(snapshot.evaluate("nope", JSON.stringify({ key: "u2" })));
assert.deepStrictEqual([missing.reason, missing.error_code], ["ERROR", "FLAG_NOT_FOUND"]);
assert.strictEqual(JSON.parse(snapshot.evaluateAll(JSON.stringify({ key: "u1" }))).length, 1);

assert.throws(() => new VexilSnapshot("{not json"), /snapshot/);
assert.throws(() => snapshot.evaluate("new-checkout", "[]"), /context/);
console.log("wasm smoke test: the release package evaluates under Node");
