import { describe, expect, it } from 'vitest';
import {
  apiQuery,
  changeWhat,
  deployFacts,
  filterQuery,
  groupByDay,
  isoToLocal,
  kindLabel,
  localToIso,
  parseFilter,
  relativeTime,
  type TimelineEntry,
} from './timeline';

declare const process: { env: Record<string, string | undefined> };

// Local days and `datetime-local` values depend on the time zone.
process.env.TZ = 'UTC';

const NOW = new Date('2026-12-03T12:00:00Z');

describe('timeline filter in the URL', () => {
  it('defaults to every kind over the last 7 days, the header environment', () => {
    expect(parseFilter('')).toEqual({ environment: undefined, kinds: ['change', 'deploy', 'trip', 'rollout'], window: '7d', from: '', to: '' });
  });

  it('reads and writes environment, kinds and window', () => {
    const filter = parseFilter('?env=production&kinds=deploy,trip,nonsense&window=1h&from=ignored');
    expect(filter).toEqual({ environment: 'production', kinds: ['deploy', 'trip'], window: '1h', from: '', to: '' });
    expect(filterQuery(filter)).toBe('env=production&kinds=deploy%2Ctrip&window=1h');
    expect(filterQuery(parseFilter('env=all'))).toBe('env=all&window=7d');
    expect(parseFilter('kinds=')).toMatchObject({ kinds: [] });
    expect(filterQuery(parseFilter('kinds='))).toBe('kinds=&window=7d');
  });

  it('keeps a custom window', () => {
    const query = 'env=staging&window=custom&from=2026-12-01T00%3A00%3A00.000Z&to=2026-12-02T00%3A00%3A00.000Z';
    expect(filterQuery(parseFilter(query))).toBe(query);
    expect(parseFilter('window=week').window).toBe('7d');
  });
});

describe('timeline API query', () => {
  it('turns a relative window into `from` and leaves out all kinds and all environments', () => {
    expect(apiQuery(parseFilter('env=all&window=1h'), NOW, 1)).toBe('from=2026-12-03T11%3A00%3A00.000Z&page=1&per_page=50');
    expect(apiQuery(parseFilter('env=production&window=24h&kinds=deploy'), NOW, 2, 10)).toBe(
      'environment=production&from=2026-12-02T12%3A00%3A00.000Z&kinds=deploy&page=2&per_page=10',
    );
  });

  it('passes a custom window as given, and asks nothing with no kind', () => {
    expect(apiQuery(parseFilter('window=custom&to=2026-12-01T00:00:00.000Z'), NOW, 1)).toBe(
      'to=2026-12-01T00%3A00%3A00.000Z&page=1&per_page=50',
    );
    expect(apiQuery(parseFilter('kinds='), NOW, 1)).toBeNull();
  });
});

describe('timeline display', () => {
  it('labels kinds', () => {
    expect(['deploy', 'trip', 'rollout', 'change'].map((k) => kindLabel(k as 'deploy'))).toEqual([
      'Deploy',
      'Kill switch',
      'Rollout',
      'Change',
    ]);
  });

  it('says how long ago', () => {
    const ago = (s: number) => relativeTime(new Date(NOW.getTime() - s * 1000).toISOString(), NOW);
    expect([ago(-120), ago(-30), ago(59), ago(60), ago(3599), ago(3600), ago(86_399), ago(86_400), ago(3 * 86_400)]).toEqual([
      'in the future',
      'just now',
      'just now',
      '1 min ago',
      '59 min ago',
      '1 h ago',
      '23 h ago',
      '1 day ago',
      '3 days ago',
    ]);
  });

  it('converts datetime-local values', () => {
    expect(localToIso('2026-12-01T09:30')).toBe('2026-12-01T09:30:00.000Z');
    expect(localToIso('')).toBe('');
    expect(localToIso('nope')).toBe('');
    expect(isoToLocal('2026-12-01T09:30:59Z')).toBe('2026-12-01T09:30');
    expect(isoToLocal('')).toBe('');
  });

  it('groups entries by day, in order', () => {
    const entry = (at: string): TimelineEntry => ({ kind: 'change', at, actor: 'user:a', detail: {} });
    const entries = [entry('2026-12-03T10:00:00Z'), entry('2026-12-03T00:10:00Z'), entry('2026-12-01T23:59:00Z')];
    expect(groupByDay(entries)).toEqual([
      { day: '2026-12-03', entries: entries.slice(0, 2) },
      { day: '2026-12-01', entries: entries.slice(2) },
    ]);
  });

  it('lists a deploy’s facts and what a change did', () => {
    expect(
      deployFacts({ service: 'api', version: '1.2.3', environment: 'production', status: 'succeeded', commit: 'abc', url: '', health: null }),
    ).toEqual([
      { name: 'service', value: 'api' },
      { name: 'version', value: '1.2.3' },
      { name: 'status', value: 'succeeded' },
      { name: 'commit', value: 'abc' },
    ]);
    expect(changeWhat({ action: 'toggled', resource: 'flag_config', key: 'new_checkout' })).toBe('toggled flag config new_checkout');
    expect(changeWhat({})).toBe('');
  });
});
