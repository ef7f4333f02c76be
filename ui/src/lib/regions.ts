// Rollout by region: a table of regions with a percentage each, written as
// rules. Each region is one rule `region-<region>` with the one clause
// `region in [<region>]` serving a rollout of `on`/`off`; DESIGN.md calls
// this "rules with a `region in [...]` clause, each serving its own rollout".

import { twoWaySplit, weightToPercent } from './rules';
import type { Rule } from './types';

export const REGION_ATTRIBUTE = 'region';
const PREFIX = 'region-';

export interface RegionRollout {
  region: string;
  /** 0–100 % of the region's users get the `on` variant. */
  percent: number;
}

export function regionRuleId(region: string): string {
  return `${PREFIX}${region}`;
}

/** Whether `rule` is one the region table wrote (and may rewrite). */
export function isRegionRule(rule: Rule): boolean {
  const [clause] = rule.clauses;
  return (
    rule.id.startsWith(PREFIX) &&
    rule.clauses.length === 1 &&
    clause.attribute === REGION_ATTRIBUTE &&
    clause.op === 'in' &&
    !clause.negate &&
    clause.values.length === 1 &&
    rule.id === regionRuleId(String(clause.values[0])) &&
    'rollout' in rule.serve
  );
}

/** The region table that `rules` hold, in rule order. */
export function readRegionRollouts(rules: Rule[], on: string): RegionRollout[] {
  return rules.filter(isRegionRule).map((rule) => {
    const weights = 'rollout' in rule.serve ? rule.serve.rollout.weights : [];
    const weight = weights.find((w) => w.variant === on)?.weight ?? 0;
    return { region: String(rule.clauses[0].values[0]), percent: weightToPercent(weight) };
  });
}

/**
 * `rules` with the region table written in: every region rule replaced by
 * the table's, in the table's order, where the first region rule stood
 * (or after the other rules when there was none). Rules a person wrote by
 * hand keep their place.
 */
export function writeRegionRollouts(
  rules: Rule[],
  table: RegionRollout[],
  on: string,
  off: string,
): Rule[] {
  const written: Rule[] = table.map(({ region, percent }) => ({
    id: regionRuleId(region),
    description: `${percent} % of ${region}`,
    clauses: [{ attribute: REGION_ATTRIBUTE, op: 'in', values: [region], negate: false }],
    serve: { rollout: { weights: twoWaySplit(percent, on, off) } },
  }));
  const first = rules.findIndex(isRegionRule);
  const others = rules.filter((rule) => !isRegionRule(rule));
  const at = first === -1 ? others.length : rules.slice(0, first).filter((r) => !isRegionRule(r)).length;
  return [...others.slice(0, at), ...written, ...others.slice(at)];
}

/** Reasons the table cannot be written, or an empty list. */
export function validateRegionTable(table: RegionRollout[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { region, percent } of table) {
    if (!/^[A-Za-z0-9._-]+$/.test(region)) problems.push(`"${region}" is not a region name`);
    if (seen.has(region)) problems.push(`${region} is listed twice`);
    seen.add(region);
    if (!(percent >= 0 && percent <= 100)) problems.push(`${region}: ${percent} is not between 0 and 100`);
  }
  return problems;
}
