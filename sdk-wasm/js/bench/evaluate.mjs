// Evaluations per second of the WASM engine under Node, on the flags of the
// native criterion bench (benches/benches/engine.rs), for the side-by-side
// table in docs/performance.md:
//
//   cargo run -p vexil-benches --example bench_data > /tmp/bench-data.json
//   cargo xtask wasm && (cd sdk-wasm/js && npm run build)
//   node sdk-wasm/js/bench/evaluate.mjs /tmp/bench-data.json
//
// Two layers per case: `VexilSnapshot.evaluate` with the context already
// JSON (the engine plus the string boundary), and `VexilClient.evaluate`
// with a context object (adds JSON.stringify and JSON.parse: what an
// application pays). Each figure is the median of 7 timed batches of at
// least 200 ms, after a 500 ms warm-up.

import { readFileSync } from "node:fs";

import { init, VexilClient, VexilSnapshot } from "../dist/index.js";

const BATCHES = 7;
const BATCH_MS = 200;
const WARMUP_MS = 500;

function measure(run) {
  // Grow the batch until it lasts BATCH_MS, warming up on the way.
  let iterations = 1;
  const warmupEnd = performance.now() + WARMUP_MS;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) run();
    const took = performance.now() - start;
    if (took >= BATCH_MS && performance.now() >= warmupEnd) break;
    if (took < BATCH_MS) iterations *= 2;
  }
  const perCall = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) run();
    perCall.push(((performance.now() - start) * 1e6) / iterations);
  }
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(BATCHES / 2)];
}

function format(ns) {
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`;
}

const data = JSON.parse(readFileSync(process.argv[2] ?? "/tmp/bench-data.json", "utf8"));
await init();
const shapes = new VexilSnapshot(JSON.stringify(data.shapes));
const mix = new VexilSnapshot(JSON.stringify(data.mix));
const client = new VexilClient({ offline: true, bootstrap: JSON.stringify(data.shapes) });
const contextJson = { user: JSON.stringify(data.user), stranger: JSON.stringify(data.stranger) };

console.log(`node ${process.version}`);
console.log("| benchmark | VexilSnapshot.evaluate | evaluations/s | VexilClient.evaluate | evaluations/s |");
console.log("|---|---|---|---|---|");
for (const { name, flag, context } of data.cases) {
  const json = contextJson[context];
  const object = data[context];
  const check = JSON.parse(shapes.evaluate(flag, json));
  if (check.reason === "ERROR") throw new Error(`${name}: ${JSON.stringify(check)}`);
  const raw = measure(() => shapes.evaluate(flag, json));
  const full = measure(() => client.evaluate(flag, object));
  console.log(
    `| evaluate/${name} | ${format(raw)} | ${Math.round(1e9 / raw).toLocaleString("en")} | ${format(full)} | ${Math.round(1e9 / full).toLocaleString("en")} |`,
  );
}
const all = JSON.parse(mix.evaluateAll(contextJson.user));
if (all.length !== 1000) throw new Error(`evaluate-all returned ${all.length} results`);
const allNs = measure(() => mix.evaluateAll(contextJson.user));
console.log(`| evaluate_all/1000_mixed | ${format(allNs)} | ${Math.round(1e9 / allNs).toLocaleString("en")} (calls) | | |`);
