// The targeting editor's model: pure functions over a config's rules,
// clauses and serves, so the components stay thin and this is unit-tested.

import type { ErrorDetail } from './api';
import type { Clause, FlagConfig, Operator, Rule, Serve, Variant, Weight } from './types';

/** Weights are in units of 1/100 000: 100 000 is 100 %. */
export const WEIGHT_TOTAL = 100_000;

/** Operators whose values are numbers. */
const NUMERIC: ReadonlySet<Operator> = new Set(['eq', 'lt', 'lte', 'gt', 'gte']);

/** How each operator reads, for the operator picker. */
export const OPERATOR_LABELS: Record<Operator, string> = {
  in: 'is one of',
  contains: 'contains',
  starts_with: 'starts with',
  ends_with: 'ends with',
  matches: 'matches regex',
  eq: '= (number)',
  lt: '< (number)',
  lte: '≤ (number)',
  gt: '> (number)',
  gte: '≥ (number)',
  semver_eq: 'semver =',
  semver_lt: 'semver <',
  semver_gt: 'semver >',
  before: 'is before (time)',
  after: 'is after (time)',
  in_segment: 'is in segment',
  exists: 'exists',
};

export function newClause(): Clause {
  return { attribute: 'key', op: 'in', values: [], negate: false };
}

/** An id not yet used by `rules`: `rule-1`, `rule-2`, … */
export function freshRuleId(rules: Rule[], stem = 'rule'): string {
  const taken = new Set(rules.map((r) => r.id));
  for (let n = 1; ; n++) {
    const id = `${stem}-${n}`;
    if (!taken.has(id)) return id;
  }
}

export function newRule(rules: Rule[], variants: Variant[]): Rule {
  return {
    id: freshRuleId(rules),
    clauses: [newClause()],
    serve: { variant: variants[0]?.key ?? '' },
  };
}

/** `rules` with the rule at `index` moved by `delta` (order decides the match). */
export function moveRule(rules: Rule[], index: number, delta: number): Rule[] {
  const to = index + delta;
  if (index < 0 || index >= rules.length || to < 0 || to >= rules.length) return rules;
  const next = [...rules];
  const [rule] = next.splice(index, 1);
  next.splice(to, 0, rule);
  return next;
}

/** The values a person typed (comma- or line-separated) as the operator needs them. */
export function parseValues(op: Operator, text: string): { values: unknown[]; error?: string } {
  if (op === 'exists') return { values: [] };
  const parts = text
    .split(/[,\n]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (!NUMERIC.has(op)) return { values: parts };
  const values: number[] = [];
  for (const part of parts) {
    const n = Number(part);
    if (!Number.isFinite(n)) return { values: parts, error: `"${part}" is not a number` };
    values.push(n);
  }
  return { values };
}

export function formatValues(values: unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

/** A percentage (0–100, up to 3 decimals) as a weight. */
export function percentToWeight(percent: number): number {
  return Math.round(Math.min(100, Math.max(0, percent)) * 1000);
}

export function weightToPercent(weight: number): number {
  return weight / 1000;
}

/**
 * A rollout giving `percent` % to `on` and the rest to `off`, weights in
 * variant order and summing to exactly 100 000.
 */
export function twoWaySplit(percent: number, on: string, off: string): Weight[] {
  const weight = percentToWeight(percent);
  return [
    { variant: on, weight },
    { variant: off, weight: WEIGHT_TOTAL - weight },
  ];
}

/** Whether a serve splits users between variants (neither 0 % nor 100 % for all). */
export function isPartialRollout(serve: Serve): boolean {
  if (!('rollout' in serve)) return false;
  return !serve.rollout.weights.some((w) => w.weight === WEIGHT_TOTAL);
}

/** A short text for a serve: "on", or "on 25 % / off 75 %". */
export function describeServe(serve: Serve): string {
  if ('variant' in serve) return serve.variant;
  return serve.rollout.weights
    .filter((w) => w.weight > 0)
    .map((w) => `${w.variant} ${weightToPercent(w.weight)} %`)
    .join(' / ');
}

/** Problems of a 422 whose JSON pointer is `path` or lies under it. */
export function problemsAt(details: ErrorDetail[], path: string): string[] {
  return details
    .filter((d) => d.path === path || d.path.startsWith(`${path}/`))
    .map((d) => d.problem);
}

/**
 * The config's own editable copy (deep, so edits never touch the loaded
 * one). Through JSON, since the loaded one may be a Svelte state proxy,
 * which `structuredClone` refuses; a config is JSON anyway.
 */
export function cloneConfig(config: FlagConfig): FlagConfig {
  return JSON.parse(JSON.stringify(config)) as FlagConfig;
}
