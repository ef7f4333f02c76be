import { describe, expect, it } from 'vitest';
import { Api } from './api';
import { describeTrigger, emptyDraft, specOf } from './killswitch';

describe('kill-switch form', () => {
  it('writes an alert switch as the API takes it', () => {
    const draft = emptyDraft('new-checkout', 'production');
    draft.name = 'Checkout errors';
    draft.matchers = [
      { label: ' alertname ', op: '=', value: 'CheckoutErrors' },
      { label: 'severity', op: '=~', value: 'page|critical' },
    ];
    const spec = specOf(draft);
    expect(spec).toEqual({
      name: 'Checkout errors',
      flag: 'new-checkout',
      environment: 'production',
      trigger: {
        alert: {
          matchers: [
            { label: 'alertname', op: '=', value: 'CheckoutErrors' },
            { label: 'severity', op: '=~', value: 'page|critical' },
          ],
        },
      },
      action: 'disable',
      restore: 'manual',
    });
    expect(describeTrigger(spec)).toBe('alert alertname="CheckoutErrors", severity=~"page|critical"');
  });

  it('writes a deploy switch, with the default statuses left to the server', () => {
    const draft = { ...emptyDraft('f', 'production'), triggerKind: 'deploy' as const, service: 'checkout-api' };
    draft.action = 'serve';
    draft.serveVariant = 'off';
    draft.restore = 'on_resolve';
    expect(specOf(draft).trigger).toEqual({ deploy: { service: 'checkout-api' } });
    expect(specOf(draft).action).toEqual({ serve: 'off' });
    expect(specOf({ ...draft, statuses: 'failed, unhealthy' }).trigger).toEqual({
      deploy: { service: 'checkout-api', statuses: ['failed', 'unhealthy'] },
    });
    expect(describeTrigger(specOf(draft))).toBe('deploy of checkout-api failed/rolled_back');
  });

  it('re-arms and deletes through the API with the version and reason', async () => {
    const calls: { url: string; method: string; headers: Record<string, string> }[] = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      calls.push({ url, method: init.method ?? 'GET', headers: init.headers as Record<string, string> });
      return new Response(init.method === 'DELETE' ? null : '{}', { status: init.method === 'DELETE' ? 204 : 200 });
    }) as unknown as typeof fetch;
    const api = new Api('', 'tok', fetchImpl);
    await api.resetKillSwitch('default', 'ks-1', 'incident over');
    await api.deleteKillSwitch('default', 'ks-1', 3);
    expect(calls.map((c) => [c.method, c.url])).toEqual([
      ['POST', '/api/v1/projects/default/kill-switches/ks-1/reset'],
      ['DELETE', '/api/v1/projects/default/kill-switches/ks-1'],
    ]);
    expect(calls[0].headers['X-Vexil-Reason']).toBe('incident over');
    expect(calls[1].headers['If-Match']).toBe('"3"');
  });
});
