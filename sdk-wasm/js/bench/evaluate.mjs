// Evaluations per second of the WASM engine under Node, on the flags of the
// native criterion bench (benches/benches/engine.rs), for the side-by-side
// table in docs/performance.md:
//
//   cargo run -p vexil-benches --example bench_data > /tmp/bench-data.json
//   cargo xtask wasm && (cd sdk-wasm/js && npm run build)
//   node sdk-wasm/js/bench/evaluate.mjs /tmp/bench-data.json
//
// Per case, three layers:
// - `variantIndexAt`: `VexilSnapshot.variantIndexAt(flagIndex, VexilContext)`,
//   the engine with a context parsed once and the flag's index resolved
//   once, returning the served variant's position: what the native bench
//   times, plus one call into wasm with numbers only.
// - `client.*Value(prepared)`: the client's typed call with a prepared
//   context (a Map lookup of the flag, variantIndexAt, the variant's
//   value): what an application pays.
// - `evaluate(json)`: `VexilSnapshot.evaluate(flag, contextJson)`, the full
//   result as JSON with the context parsed per call.
// Each figure is the median of 7 timed batches of at least 200 ms, after a
// 500 ms warm-up.

import { readFileSync } from "node:fs";

import { init, loadRegex, VexilClient, VexilContext, VexilSnapshot } from "../dist/index.js";

const BATCHES = 7;
const BATCH_MS = 200;
const WARMUP_MS = 500;

let sink = 0;
function measure(run) {
  let iterations = 1;
  const warmupEnd = performance.now() + WARMUP_MS;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) sink ^= run() ? 1 : 0;
    const took = performance.now() - start;
    if (took >= BATCH_MS && performance.now() >= warmupEnd) break;
    if (took < BATCH_MS) iterations *= 2;
  }
  const perCall = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) sink ^= run() ? 1 : 0;
    perCall.push(((performance.now() - start) * 1e6) / iterations);
  }
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(BATCHES / 2)];
}

function format(ns) {
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}

const data = JSON.parse(readFileSync(process.argv[2] ?? "/tmp/bench-data.json", "utf8"));
// The five-rule flag has `matches` clauses: the regex module compiles them.
await init();
await loadRegex();
const shapes = new VexilSnapshot(JSON.stringify(data.shapes));
const mix = new VexilSnapshot(JSON.stringify(data.mix));
const client = new VexilClient({ offline: true, bootstrap: JSON.stringify(data.shapes) });
const json = { user: JSON.stringify(data.user), stranger: JSON.stringify(data.stranger) };
const handles = { user: new VexilContext(json.user), stranger: new VexilContext(json.stranger) };
const prepared = { user: client.prepare(data.user), stranger: client.prepare(data.stranger) };

console.log(`node ${process.version}`);
console.log("| benchmark | variantIndexAt | client value (prepared) | evaluate (JSON in and out) |");
console.log("|---|---|---|---|");
for (const { name, flag, context } of data.cases) {
  const check = JSON.parse(shapes.evaluate(flag, json[context]));
  const flagIndex = shapes.flagKeys().indexOf(flag);
  const index = shapes.variantIndexAt(flagIndex, handles[context]);
  if (check.reason === "ERROR" || data.shapes.flags.find((f) => f.key === flag).variants[index].key !== check.variant) {
    throw new Error(`${name}: ${JSON.stringify(check)}`);
  }
  const typed = typeof check.value === "boolean" ? "boolValue" : typeof check.value === "string" ? "stringValue" : "jsonValue";
  const fallback = typed === "boolValue" ? false : typed === "stringValue" ? "" : null;
  const fast = measure(() => shapes.variantIndexAt(flagIndex, handles[context]) >= 0);
  const value = measure(() => client[typed](flag, prepared[context], fallback));
  const full = measure(() => shapes.evaluate(flag, json[context]));
  console.log(`| evaluate/${name} | ${format(fast)} | ${format(value)} | ${format(full)} |`);
}
const all = JSON.parse(mix.evaluateAll(json.user));
if (all.length !== 1000) throw new Error(`evaluate-all returned ${all.length} results`);
const allNs = measure(() => mix.evaluateAll(json.user).length);
console.log(`| evaluate_all/1000_mixed (JSON out) | | | ${format(allNs)} |`);
if (sink === 42) console.log("");
