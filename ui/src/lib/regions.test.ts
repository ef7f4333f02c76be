import { describe, expect, it } from 'vitest';
import { isRegionRule, readRegionRollouts, validateRegionTable, writeRegionRollouts } from './regions';
import type { Rule } from './types';

const handWritten: Rule = {
  id: 'beta',
  clauses: [{ attribute: 'key', op: 'in_segment', values: ['beta-testers'] }],
  serve: { variant: 'on' },
};
const lateRule: Rule = {
  id: 'staff',
  clauses: [{ attribute: 'email', op: 'ends_with', values: ['@example.com'] }],
  serve: { variant: 'on' },
};

describe('rollout by region', () => {
  it('writes one rule per region with a region clause and a two-way rollout', () => {
    const rules = writeRegionRollouts(
      [handWritten],
      [
        { region: 'eu-west-1', percent: 10 },
        { region: 'us-east-1', percent: 50 },
      ],
      'on',
      'off',
    );
    expect(rules.map((r) => r.id)).toEqual(['beta', 'region-eu-west-1', 'region-us-east-1']);
    expect(rules[1]).toEqual({
      id: 'region-eu-west-1',
      description: '10 % of eu-west-1',
      clauses: [{ attribute: 'region', op: 'in', values: ['eu-west-1'], negate: false }],
      serve: {
        rollout: {
          weights: [
            { variant: 'on', weight: 10_000 },
            { variant: 'off', weight: 90_000 },
          ],
        },
      },
    });
  });

  it('reads back what it wrote, and rewrites in place keeping hand-written rules', () => {
    const first = writeRegionRollouts(
      [handWritten, lateRule],
      [{ region: 'eu-west-1', percent: 10 }],
      'on',
      'off',
    );
    // Region rules go after the hand-written ones the first time.
    expect(first.map((r) => r.id)).toEqual(['beta', 'staff', 'region-eu-west-1']);
    // A person moves the region rule above `staff`; a rewrite keeps that place.
    const moved = [first[0], first[2], first[1]];
    expect(readRegionRollouts(moved, 'on')).toEqual([{ region: 'eu-west-1', percent: 10 }]);
    const second = writeRegionRollouts(
      moved,
      [
        { region: 'eu-west-1', percent: 20 },
        { region: 'ap-south-1', percent: 0.5 },
      ],
      'on',
      'off',
    );
    expect(second.map((r) => r.id)).toEqual(['beta', 'region-eu-west-1', 'region-ap-south-1', 'staff']);
    expect(readRegionRollouts(second, 'on')).toEqual([
      { region: 'eu-west-1', percent: 20 },
      { region: 'ap-south-1', percent: 0.5 },
    ]);
    // Removing every region removes their rules and nothing else.
    expect(writeRegionRollouts(second, [], 'on', 'off').map((r) => r.id)).toEqual(['beta', 'staff']);
  });

  it('leaves alone rules that merely look like region rules', () => {
    const twoRegions: Rule = {
      id: 'region-eu',
      clauses: [{ attribute: 'region', op: 'in', values: ['eu-west-1', 'eu-central-1'] }],
      serve: { rollout: { weights: [{ variant: 'on', weight: 100_000 }] } },
    };
    const negated: Rule = {
      id: 'region-us-east-1',
      clauses: [{ attribute: 'region', op: 'in', values: ['us-east-1'], negate: true }],
      serve: { rollout: { weights: [{ variant: 'on', weight: 100_000 }] } },
    };
    expect(isRegionRule(twoRegions)).toBe(false);
    expect(isRegionRule(negated)).toBe(false);
    expect(readRegionRollouts([twoRegions, negated], 'on')).toEqual([]);
    expect(writeRegionRollouts([twoRegions, negated], [], 'on', 'off')).toEqual([twoRegions, negated]);
  });

  it('refuses bad tables', () => {
    expect(validateRegionTable([{ region: 'eu-west-1', percent: 10 }])).toEqual([]);
    expect(
      validateRegionTable([
        { region: 'eu west', percent: 10 },
        { region: 'x', percent: 101 },
        { region: 'x', percent: 1 },
      ]),
    ).toEqual(['"eu west" is not a region name', 'x: 101 is not between 0 and 100', 'x is listed twice']);
  });
});
