// Loads the wasm-bindgen `nodejs` packages given as arguments (the engine,
// then the regex module) and evaluates through them: run by `cargo xtask ci`
// on the release builds.
const assert = require("node:assert");
const { VexilSnapshot, installRegex, engineMemory } = require(process.argv[1]);
const regexModule = require(process.argv[2]);
// The simplest host: the JS package's `loadRegex` builds a faster one.
const regexHost = {
  compile: regexModule.compile,
  release: regexModule.release,
  isMatch(handle, address, len) {
    const input = regexModule.input(len);
    new Uint8Array(regexModule.regexMemory().buffer, input, len).set(new Uint8Array(engineMemory().buffer, address, len));
    return regexModule.isMatchInput(handle, len);
  },
};

/** A snapshot of one boolean flag, on for contexts its one rule matches. */
function oneRule(version, key, ruleId, clause) {
  return new VexilSnapshot(JSON.stringify({
    environment: "production",
    version,
    flags: [{
      key,
      kind: "boolean",
      variants: [{ key: "on", value: true }, { key: "off", value: false }],
      config: {
        enabled: true,
        off_variant: "off",
        rules: [{ id: ruleId, clauses: [clause], serve: { variant: "on" } }],
        default_serve: { variant: "off" },
      },
    }],
  }));
}

const snapshot = oneRule(7, "new-checkout", "beta", { attribute: "beta", op: "in", values: [true] });
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

// `matches` fails closed until the regex module is installed, then matches.
const emails = oneRule(1, "staff", "staff", { attribute: "email", op: "matches", values: ["@example\\.com$"] });
const staff = JSON.stringify({ key: "u1", attributes: { email: "ann@example.com" } });
assert.strictEqual(emails.usesRegex, true);
assert.deepStrictEqual(JSON.parse(emails.evaluate("staff", staff)).error_code, "PARSE_ERROR");
installRegex(regexHost);
emails.recompile();
assert.strictEqual(emails.compileErrors(), "[]");
assert.strictEqual(JSON.parse(emails.evaluate("staff", staff)).value, true);
const outsider = JSON.stringify({ key: "u2", attributes: { email: "ann@example.com.evil" } });
assert.strictEqual(JSON.parse(emails.evaluate("staff", outsider)).value, false);
assert.throws(() => regexModule.compile("(unclosed"), /regular expression does not compile/);
assert.throws(() => snapshot.evaluate("new-checkout", "[]"), /context/);
console.log("wasm smoke test: the release package evaluates under Node");
