import { describe, expect, it } from 'vitest';
import { badgesFor, isStale } from './badges';
import { twoWaySplit } from './rules';
import type { Flag, FlagConfig, KillSwitch, PlanState, PlanStatus } from './types';

const now = new Date('2026-12-03T12:00:00Z');
const flag = (over: Partial<Flag> = {}): Flag => ({
  key: 'f',
  name: 'F',
  description: '',
  tags: [],
  kind: 'boolean',
  variants: [],
  temporary: false,
  version: 1,
  archived: false,
  created_at: '2026-10-01T00:00:00Z',
  updated_at: '2026-10-01T00:00:00Z',
  last_evaluated: {},
  ...over,
});
const config = (over: Partial<FlagConfig> = {}): FlagConfig => ({
  enabled: true,
  off_variant: 'off',
  targets: [],
  rules: [],
  default_serve: { variant: 'off' },
  prerequisites: [],
  version: 1,
  ...over,
});

describe('badges', () => {
  it('calls a flag stale after 7 days without evaluations, but never a young one', () => {
    expect(isStale(flag(), now)).toBe(true);
    expect(isStale(flag({ last_evaluated: { production: '2026-12-01T00:00:00Z' } }), now)).toBe(false);
    expect(
      isStale(flag({ last_evaluated: { staging: '2026-11-01T00:00:00Z', production: '2026-11-26T11:00:00Z' } }), now),
    ).toBe(true);
    expect(isStale(flag({ created_at: '2026-12-01T00:00:00Z' }), now)).toBe(false);
  });

  it('shows a rollout in progress only for an enabled partial split', () => {
    const split = { rollout: { weights: twoWaySplit(10, 'on', 'off') } };
    const rule = { id: 'r', clauses: [], serve: split };
    const fresh = flag({ last_evaluated: { production: '2026-12-03T00:00:00Z' } });
    expect(badgesFor(fresh, [config({ rules: [rule] })], [], now)).toEqual(['rollout']);
    expect(badgesFor(fresh, [config({ default_serve: split })], [], now)).toEqual(['rollout']);
    expect(badgesFor(fresh, [config({ enabled: false, rules: [rule] })], [], now)).toEqual([]);
    expect(badgesFor(fresh, [undefined, config()], [], now)).toEqual([]);
  });

  it('shows killed for a tripped switch of the flag, and temporary', () => {
    const tripped: KillSwitch = {
      id: '1',
      name: 'errors',
      flag: 'f',
      environment: 'production',
      version: 2,
      trigger: { alert: { matchers: [{ label: 'alertname', op: '=', value: 'Errors' }] } },
      action: 'disable',
      restore: 'manual',
      state: { status: 'tripped', tripped_at: '2026-12-03T11:00:00Z', tripped_by: [] },
    };
    const other = { ...tripped, flag: 'g' };
    const armed = { ...tripped, state: { ...tripped.state, status: 'armed' } };
    const f = flag({ temporary: true });
    expect(badgesFor(f, [], [tripped], now)).toEqual(['killed', 'stale', 'temporary']);
    expect(badgesFor(f, [], [other, armed], now)).toEqual(['stale', 'temporary']);
  });

  it('shows a running or paused rollout plan of the flag, and not a finished one', () => {
    const fresh = flag({ last_evaluated: { production: '2026-12-03T00:00:00Z' } });
    const plan = (flagKey: string, status: PlanStatus) => ({ flag: flagKey, state: { status } as PlanState });
    expect(badgesFor(fresh, [], [], now, [plan('f', 'running'), plan('g', 'paused')])).toEqual(['plan-running']);
    expect(badgesFor(fresh, [], [], now, [plan('f', 'paused'), plan('f', 'running')])).toEqual([
      'plan-running',
      'plan-paused',
    ]);
    expect(badgesFor(fresh, [], [], now, [plan('f', 'completed'), plan('f', 'aborted')])).toEqual([]);
  });
});
