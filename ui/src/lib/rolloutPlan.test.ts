import { describe, expect, it } from 'vitest';
import { Api } from './api';
import {
  actionsFor,
  describeCause,
  describeMatchers,
  describeRamp,
  describeStatus,
  draftOf,
  emptyPlanDraft,
  move,
  newAlertGuard,
  newRegion,
  percentOf,
  planOf,
  untilText,
} from './rolloutPlan';
import type { RolloutPlanSpec } from './types';

describe('rollout plan form', () => {
  it('starts with a ramp of the first other variant against the off variant, everywhere', () => {
    const draft = emptyPlanDraft(['off', 'on'], 'off');
    expect(planOf(draft)).toEqual({
      plan: {
        variant: 'on',
        control: 'off',
        stages: [
          { percent: 1, hold: '30m' },
          { percent: 10, hold: '1h' },
          { percent: 50, hold: '1h' },
          { percent: 100, hold: '1h' },
        ],
        regions: [],
        region_attribute: 'region',
        guards: { alerts: [], kill_switches: true },
      },
      problems: [],
    });
  });

  it('writes regions in order, own stages only where asked, and alert guards', () => {
    const draft = emptyPlanDraft(['on', 'off'], 'off');
    draft.bucketBy = ' org ';
    draft.stages = [
      { percent: ' 0.5 ', hold: ' 15m ' },
      { percent: '100', hold: '1d' },
    ];
    draft.regions = [newRegion(' eu-west-1 '), { region: 'us-east-1', ownStages: true, stages: [{ percent: '50', hold: '2h' }] }];
    draft.regions.push({ region: 'ap-south-1', ownStages: false, stages: [{ percent: '7', hold: '1h' }] });
    draft.alerts = [newAlertGuard(), [{ label: 'severity', op: '=~', value: 'page|critical' }]];
    draft.alerts[0][0].value = 'CheckoutErrors';
    draft.alerts[0].push({ label: ' service ', op: '!=', value: ' cart ' });
    draft.killSwitches = false;
    expect(JSON.stringify(planOf(draft).plan)).toBe(
      JSON.stringify({
        variant: 'on',
        control: 'off',
        bucket_by: 'org',
        stages: [
          { percent: 0.5, hold: '15m' },
          { percent: 100, hold: '1d' },
        ],
        regions: [
          { region: 'eu-west-1' },
          { region: 'us-east-1', stages: [{ percent: 50, hold: '2h' }] },
          { region: 'ap-south-1' },
        ],
        region_attribute: 'region',
        guards: {
          alerts: [
            {
              matchers: [
                { label: 'alertname', op: '=', value: 'CheckoutErrors' },
                { label: 'service', op: '!=', value: ' cart ' },
              ],
            },
            { matchers: [{ label: 'severity', op: '=~', value: 'page|critical' }] },
          ],
          kill_switches: false,
        },
      }),
    );
  });

  it('leaves out an empty control, so the server uses the off variant', () => {
    const draft = { ...emptyPlanDraft(['on', 'off'], 'off'), control: '' };
    expect(planOf(draft).plan).not.toHaveProperty('control');
  });

  it('reports numbers that are not numbers and empty holds at the server pointers', () => {
    const draft = emptyPlanDraft(['on', 'off'], 'off');
    draft.stages[1] = { percent: 'ten', hold: '1h' };
    draft.regions = [{ region: 'eu', ownStages: true, stages: [{ percent: '', hold: ' ' }] }];
    expect(planOf(draft)).toEqual({
      problems: [
        { path: '/stages/1/percent', problem: 'must be a number, such as 10 or 0.5' },
        { path: '/regions/0/stages/0/percent', problem: 'must be a number, such as 10 or 0.5' },
        { path: '/regions/0/stages/0/hold', problem: 'needs a hold, such as 30m or 2h' },
      ],
    });
  });

  it('reads a stored plan back into the same plan', () => {
    const spec: RolloutPlanSpec = {
      variant: 'on',
      control: 'off',
      bucket_by: 'org',
      stages: [{ percent: 0.5, hold: '1h 30m' }],
      regions: [{ region: 'eu' }, { region: 'us', stages: [{ percent: 25, hold: '0s' }] }],
      region_attribute: 'geo',
      guards: { alerts: [{ matchers: [{ label: 'alertname', op: '=', value: 'X' }] }], kill_switches: true },
    };
    const draft = draftOf(spec, 'off');
    expect(draft.regions.map((r) => r.ownStages)).toEqual([false, true]);
    expect(planOf(draft).plan).toEqual(spec);
    const noControl = { ...spec, control: undefined };
    expect(draftOf(noControl, 'legacy').control).toBe('legacy');
  });

  it('moves a region up and down, and not past the ends', () => {
    expect(move(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b']);
    expect(move(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    const list = ['a', 'b'];
    expect(move(list, 0, -1)).toBe(list);
    expect(move(list, 1, 1)).toBe(list);
  });
});

describe('rollout plan panel', () => {
  it('writes weights as the server does', () => {
    expect([0, 500, 1000, 25_000, 12_345, 100_000].map(percentOf)).toEqual([
      '0 %',
      '0.5 %',
      '1 %',
      '25 %',
      '12.345 %',
      '100 %',
    ]);
  });

  it('writes ramps and guards in words', () => {
    expect(describeRamp([{ percent: 0.5, hold: '30m' }, { percent: 100, hold: '1h 30m' }])).toBe(
      '0.5 % for 30m → 100 % for 1h 30m',
    );
    expect(
      describeMatchers([
        { label: 'alertname', op: '=', value: 'X' },
        { label: 'severity', op: '=~', value: 'page|critical' },
      ]),
    ).toBe('alertname="X", severity=~"page|critical"');
  });

  it('says when the next step is due', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(untilText('2030-01-01T00:29:10Z', now)).toBe('in 30 min');
    expect(untilText('2030-01-01T02:05:00Z', now)).toBe('in 2 h 5 min');
    expect(untilText('2030-01-01T02:00:00Z', now)).toBe('in 2 h');
    expect(untilText('2030-01-04T04:00:00Z', now)).toBe('in 3 d 4 h');
    expect(untilText('2029-12-31T23:59:00Z', now)).toBe('due now');
  });

  it('names the status, the firing guards and the moves allowed', () => {
    const state = { rolled_back: false } as const;
    expect(describeStatus({ state: { ...state, status: 'running' } as never })).toBe('running');
    expect(describeStatus({ state: { status: 'paused', rolled_back: true } as never })).toBe(
      'paused, rolled back to 0 %',
    );
    expect(describeStatus({ state: { status: 'aborted', rolled_back: true } as never })).toBe('aborted');
    expect(
      describeCause({ source: 'alert', fingerprint: 'f1', alertname: 'CheckoutErrors', starts_at: '2030-01-01T00:00:00Z' }),
    ).toBe('alert CheckoutErrors (since 2030-01-01T00:00:00Z)');
    expect(describeCause({ source: 'deploy', service: 'api', version: 'v2', status: 'failed' })).toBe(
      'deploy of api v2 failed',
    );
    expect(actionsFor('running')).toEqual({ pause: true, resume: false, abort: true });
    expect(actionsFor('paused')).toEqual({ pause: false, resume: true, abort: true });
    expect(actionsFor('completed')).toEqual({ pause: false, resume: false, abort: false });
  });

  it('calls the plan endpoints with If-Match and the reason; no plan is null', async () => {
    const calls: { url: string; method: string; headers: Record<string, string>; body?: string }[] = [];
    const answers = [
      new Response(JSON.stringify({ error: { code: 'not_found', message: 'no rollout plan' } }), { status: 404 }),
      new Response('{}', { status: 201 }),
      new Response('{}', { status: 200 }),
      new Response(null, { status: 204 }),
      new Response(JSON.stringify({ error: { code: 'not_found', message: 'no API endpoint' } }), { status: 404 }),
    ];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      calls.push({ url, method: init.method ?? 'GET', headers: init.headers as Record<string, string>, body: init.body as string });
      return answers.shift();
    }) as unknown as typeof fetch;
    const api = new Api('', 'tok', fetchImpl);
    expect(await api.rolloutPlan('default', 'f', 'staging')).toBeNull();
    const spec = planOf(emptyPlanDraft(['on', 'off'], 'off')).plan!;
    await api.putRolloutPlan('default', 'f', 'staging', spec);
    await api.rolloutPlanAction('default', 'f', 'staging', 'pause', { ifMatch: 3, reason: 'errors up' });
    await api.deleteRolloutPlan('default', 'f', 'staging', { ifMatch: 4 });
    expect(await api.rolloutPlans('default')).toEqual([]);
    const plan = '/api/v1/projects/default/flags/f/environments/staging/rollout-plan';
    expect(calls.map((c) => [c.method, c.url])).toEqual([
      ['GET', plan],
      ['PUT', plan],
      ['POST', `${plan}/pause`],
      ['DELETE', plan],
      ['GET', '/api/v1/projects/default/rollout-plans'],
    ]);
    expect(JSON.parse(calls[1].body!)).toEqual(spec);
    expect(calls[2].headers['If-Match']).toBe('"3"');
    expect(calls[2].headers['X-Vexil-Reason']).toBe('errors up');
    expect(calls[2].body).toBeUndefined();
    expect(calls[3].headers['If-Match']).toBe('"4"');
  });
});
