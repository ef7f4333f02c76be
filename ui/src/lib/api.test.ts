import { describe, expect, it } from 'vitest';
import { Api, ApiError } from './api';
import type { FlagConfig } from './types';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A `fetch` that records each call and answers from `answers` in order. */
function recorder(...answers: Response[]) {
  const calls: Call[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body === undefined ? undefined : JSON.parse(String(init.body)),
    });
    const answer = answers.shift();
    if (!answer) throw new Error('no answer left');
    return answer;
  };
  return { calls, fetchImpl: fetchImpl as typeof fetch };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const config: FlagConfig = {
  enabled: true,
  off_variant: 'off',
  targets: [],
  rules: [],
  default_serve: { variant: 'off' },
  prerequisites: [],
  version: 7,
};

describe('Api', () => {
  it('sends the token, If-Match and the reason, and leaves version out of the body', async () => {
    const { calls, fetchImpl } = recorder(json(200, { ...config, version: 8 }));
    const api = new Api('http://vexil.test/', 'tok', fetchImpl);
    const saved = await api.putConfig('default', 'new checkout', 'production', config, 'launch');
    expect(saved.version).toBe(8);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call.url).toBe('http://vexil.test/api/v1/projects/default/flags/new%20checkout/environments/production');
    expect(call.method).toBe('PUT');
    expect(call.headers.Authorization).toBe('Bearer tok');
    expect(call.headers['If-Match']).toBe('"7"');
    expect(call.headers['X-Vexil-Reason']).toBe('launch');
    expect(call.body).toEqual({ ...config, version: undefined });
    expect(call.body).not.toHaveProperty('version');
  });

  it('turns the error shape into an ApiError with details', async () => {
    const details = [{ path: '/off_variant', problem: 'variant "of" does not exist' }];
    const { fetchImpl } = recorder(
      json(422, { error: { code: 'invalid', message: 'the request body is invalid', details } }),
    );
    const api = new Api('', 'tok', fetchImpl);
    const error = await api.putConfig('p', 'f', 'e', config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(422);
    expect((error as ApiError).code).toBe('invalid');
    expect((error as ApiError).details).toEqual(details);
    expect((error as ApiError).isConflict).toBe(false);
  });

  it('marks a 409 as a conflict', async () => {
    const { fetchImpl } = recorder(
      json(409, { error: { code: 'conflict', message: 'version conflict: If-Match was 1, the current version is 2' } }),
    );
    const api = new Api('', 'tok', fetchImpl);
    const error = (await api.toggle('p', 'f', 'e', true, { ifMatch: 1 }).catch((e: unknown) => e)) as ApiError;
    expect(error.isConflict).toBe(true);
    expect(error.message).toContain('current version is 2');
  });

  it('reads a body that is not the error shape as the message', async () => {
    const { fetchImpl } = recorder(new Response('bad gateway', { status: 502 }));
    const error = (await new Api('', null, fetchImpl).projects().catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.message).toBe('bad gateway');
  });

  it('calls onUnauthorized on a 401 with a session, and not at login', async () => {
    const unauthorized = () => json(401, { error: { code: 'unauthorized', message: 'token expired' } });
    const { fetchImpl } = recorder(unauthorized(), unauthorized());
    const api = new Api('', null, fetchImpl);
    let ended = 0;
    api.onUnauthorized = () => ended++;
    await expect(api.login('admin', 'wrong')).rejects.toThrow('token expired');
    expect(ended).toBe(0);
    api.token = 'old';
    await expect(api.projects()).rejects.toThrow();
    expect(ended).toBe(1);
  });

  it('sends the toggle reason in the body and answers 204 with undefined', async () => {
    const { calls, fetchImpl } = recorder(json(200, config), new Response(null, { status: 204 }));
    const api = new Api('', 'tok', fetchImpl);
    await api.toggle('default', 'f', 'production', false, { reason: 'incident' });
    expect(calls[0].body).toEqual({ enabled: false, reason: 'incident' });
    expect(calls[0].headers['If-Match']).toBeUndefined();
    expect(await api.request('DELETE', '/api/v1/tokens/x')).toBeUndefined();
  });

  it('lists no kill switches on a server without them, but reports other errors', async () => {
    const notFound = json(404, { error: { code: 'not_found', message: 'no API endpoint GET /api/v1/…' } });
    const forbidden = json(403, { error: { code: 'forbidden', message: 'no' } });
    const { fetchImpl } = recorder(notFound, forbidden);
    const api = new Api('', 'tok', fetchImpl);
    expect(await api.killSwitches('default')).toEqual([]);
    await expect(api.killSwitches('default')).rejects.toThrow('no');
  });

  it('builds the flag list query', async () => {
    const { calls, fetchImpl } = recorder(json(200, { items: [], total: 0 }));
    await new Api('', 'tok', fetchImpl).flags('default', { q: 'check out', tag: 'web', page: 2, perPage: 25 });
    expect(calls[0].url).toBe('/api/v1/projects/default/flags?q=check+out&tag=web&page=2&per_page=25');
  });
});
