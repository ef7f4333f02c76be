import { describe, expect, it } from 'vitest';
import {
  describeServe,
  freshRuleId,
  isPartialRollout,
  moveRule,
  newRule,
  parseValues,
  percentToWeight,
  problemsAt,
  twoWaySplit,
} from './rules';
import type { Rule } from './types';

const rule = (id: string): Rule => ({ id, clauses: [], serve: { variant: 'on' } });

describe('rule editor model', () => {
  it('moves rules within bounds and leaves the list alone past them', () => {
    const rules = [rule('a'), rule('b'), rule('c')];
    expect(moveRule(rules, 2, -1).map((r) => r.id)).toEqual(['a', 'c', 'b']);
    expect(moveRule(rules, 0, 1).map((r) => r.id)).toEqual(['b', 'a', 'c']);
    expect(moveRule(rules, 0, -1)).toBe(rules);
    expect(moveRule(rules, 2, 1)).toBe(rules);
    expect(rules.map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });

  it('gives new rules unused ids and a clause to fill in', () => {
    expect(freshRuleId([rule('rule-1'), rule('rule-3')])).toBe('rule-2');
    const made = newRule([rule('rule-1')], [{ key: 'on', value: true }, { key: 'off', value: false }]);
    expect(made.id).toBe('rule-2');
    expect(made.clauses).toEqual([{ attribute: 'key', op: 'in', values: [], negate: false }]);
    expect(made.serve).toEqual({ variant: 'on' });
  });

  it('parses values by operator', () => {
    expect(parseValues('in', 'eu-west-1, us-east-1\nap-south-1,')).toEqual({
      values: ['eu-west-1', 'us-east-1', 'ap-south-1'],
    });
    expect(parseValues('gte', '1.5, 10')).toEqual({ values: [1.5, 10] });
    expect(parseValues('lt', 'ten').error).toBe('"ten" is not a number');
    expect(parseValues('exists', 'ignored')).toEqual({ values: [] });
    expect(parseValues('semver_gt', '1.2.3')).toEqual({ values: ['1.2.3'] });
  });

  it('turns percentages into weights that sum to 100 000', () => {
    expect(percentToWeight(12.3456)).toBe(12346);
    expect(percentToWeight(150)).toBe(100_000);
    expect(percentToWeight(-1)).toBe(0);
    const split = twoWaySplit(10, 'on', 'off');
    expect(split).toEqual([
      { variant: 'on', weight: 10_000 },
      { variant: 'off', weight: 90_000 },
    ]);
    const odd = twoWaySplit(33.3333, 'on', 'off');
    expect(odd[0].weight + odd[1].weight).toBe(100_000);
  });

  it('tells a partial rollout from a fixed one', () => {
    expect(isPartialRollout({ variant: 'on' })).toBe(false);
    expect(isPartialRollout({ rollout: { weights: twoWaySplit(100, 'on', 'off') } })).toBe(false);
    expect(isPartialRollout({ rollout: { weights: twoWaySplit(25, 'on', 'off') } })).toBe(true);
    expect(describeServe({ rollout: { weights: twoWaySplit(25, 'on', 'off') } })).toBe('on 25 % / off 75 %');
  });

  it('finds the problems under a field', () => {
    const details = [
      { path: '/off_variant', problem: 'a' },
      { path: '/rules/0/clauses/0/values/0', problem: 'b' },
      { path: '/rules/10/id', problem: 'c' },
    ];
    expect(problemsAt(details, '/rules/0/clauses/0')).toEqual(['b']);
    expect(problemsAt(details, '/rules/1')).toEqual([]);
    expect(problemsAt(details, '/rules/10/id')).toEqual(['c']);
    expect(problemsAt(details, '/off_variant')).toEqual(['a']);
  });
});
