import { describe, expect, it } from 'vitest';
import { jsonDiff } from './diff';
import { parseContext } from './context';
import { parseRoute, routePath, type Route } from './router';
import { buildVariants } from './variants';

describe('routes', () => {
  it('round-trips every page through its path', () => {
    const routes: Route[] = [
      { page: 'login' },
      { page: 'flags', project: 'default' },
      { page: 'flag', project: 'default', flag: 'new.checkout' },
      { page: 'flag', project: 'pay ments', flag: 'a/b', env: 'production' },
      { page: 'history', project: 'default' },
      { page: 'history', project: 'default', flag: 'x' },
      { page: 'kill-switches', project: 'default' },
      { page: 'rollout-plans', project: 'default' },
      { page: 'timeline', project: 'default' },
      { page: 'timeline', project: 'default', query: 'env=all&kinds=deploy%2Ctrip&window=1h' },
    ];
    for (const route of routes) {
      const [path, search] = routePath(route).split('?');
      expect(parseRoute(path, search ? `?${search}` : '')).toEqual(route);
    }
    expect(parseRoute('/')).toEqual({ page: 'flags', project: 'default' });
    expect(parseRoute('/nope/x')).toEqual({ page: 'not-found', path: '/nope/x' });
  });
});

describe('change diff', () => {
  it('lists the changed leaves by JSON pointer', () => {
    const before = { enabled: false, rules: [{ id: 'a' }], targets: [], 'a/b': 1 };
    const after = { enabled: true, rules: [{ id: 'b' }], targets: [], 'a/b': 1, note: 'x' };
    expect(jsonDiff(before, after)).toEqual([
      { path: '/enabled', before: false, after: true },
      { path: '/note', before: undefined, after: 'x' },
      { path: '/rules/0/id', before: 'a', after: 'b' },
    ]);
    expect(jsonDiff(undefined, { a: 1 })).toEqual([{ path: '/', before: undefined, after: { a: 1 } }]);
    expect(jsonDiff([1], [1, 2])).toEqual([{ path: '/', before: [1], after: [1, 2] }]);
  });
});

describe('preview context and variants', () => {
  it('reads name=value lines with typed values', () => {
    expect(parseContext('user-1', 'region=eu-west-1\nage = 42\nbeta=true\n\n')).toEqual({
      context: { key: 'user-1', attributes: { region: 'eu-west-1', age: 42, beta: true } },
    });
    expect(parseContext(' ', '').error).toBe('the context needs a key');
    expect(parseContext('u', 'region').error).toBe('line 1: write name=value');
  });

  it('reads variant values by kind', () => {
    expect(buildVariants('number', [{ key: 'a', value: '1.5' }, { key: 'b', value: 'x' }])).toEqual({
      variants: [{ key: 'a', value: 1.5 }],
      problems: { 1: 'must be a number' },
    });
    expect(buildVariants('json', [{ key: 'a', value: '{"x": [1]}' }]).variants).toEqual([{ key: 'a', value: { x: [1] } }]);
    expect(buildVariants('boolean', [{ key: 'on', value: 'true' }]).variants).toEqual([{ key: 'on', value: true }]);
    expect(buildVariants('string', [{ key: ' s ', value: '' }]).variants).toEqual([{ key: 's', value: '' }]);
  });
});
