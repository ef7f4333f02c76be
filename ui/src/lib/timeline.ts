// The timeline page's logic: its filters and their URL query (so a link
// reproduces the view), the API query they make, kind labels, relative
// times, grouping by day and a deploy's facts.

import type { Api } from './api';

export type TimelineKind = 'deploy' | 'trip' | 'rollout' | 'change';

/** Every kind, in the order the filter lists them. */
export const KINDS: TimelineKind[] = ['change', 'deploy', 'trip', 'rollout'];

const LABELS: Record<TimelineKind, string> = {
  deploy: 'Deploy',
  trip: 'Kill switch',
  rollout: 'Rollout',
  change: 'Change',
};

export const kindLabel = (kind: TimelineKind): string => LABELS[kind] ?? kind;

/** One entry of `GET /api/v1/projects/{project}/timeline`. */
export interface TimelineEntry {
  kind: TimelineKind;
  /** RFC 3339. */
  at: string;
  environment?: string;
  /** A change's actor; a deploy's service. */
  actor: string;
  /** A change's reason; a deploy's "service version status". */
  summary?: string;
  /** The change-log entry or the deploy event as received. */
  detail: Record<string, unknown>;
}

export interface TimelinePage {
  items: TimelineEntry[];
  page: number;
  per_page: number;
  has_more: boolean;
}

/** The time windows offered; `custom` reads `from` and `to`. */
export type TimelineWindow = '1h' | '24h' | '7d' | 'custom';

export const WINDOWS: { value: TimelineWindow; label: string }[] = [
  { value: '1h', label: 'Last hour' },
  { value: '24h', label: 'Last 24 hours' },
  { value: '7d', label: 'Last 7 days' },
  { value: 'custom', label: 'Custom' },
];

const WINDOW_MS: Record<Exclude<TimelineWindow, 'custom'>, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};

export interface TimelineFilter {
  /** An environment key; `'all'` for every one; `undefined` until the header's is known. */
  environment?: string;
  kinds: TimelineKind[];
  window: TimelineWindow;
  /** RFC 3339, for a custom window; either may be empty. */
  from: string;
  to: string;
}

export const DEFAULT_WINDOW: TimelineWindow = '7d';

/** The filter a URL query names; what it leaves out takes the defaults. */
export function parseFilter(search: string): TimelineFilter {
  const q = new URLSearchParams(search);
  const kindsText = q.get('kinds');
  const kinds = kindsText === null ? [...KINDS] : KINDS.filter((k) => kindsText.split(',').includes(k));
  const window = WINDOWS.some((w) => w.value === q.get('window')) ? (q.get('window') as TimelineWindow) : DEFAULT_WINDOW;
  return {
    environment: q.get('env') || undefined,
    kinds,
    window,
    from: window === 'custom' ? (q.get('from') ?? '') : '',
    to: window === 'custom' ? (q.get('to') ?? '') : '',
  };
}

/** The URL query of a filter (without `?`), the inverse of `parseFilter`. */
export function filterQuery(filter: TimelineFilter): string {
  const q = new URLSearchParams();
  if (filter.environment) q.set('env', filter.environment);
  if (filter.kinds.length !== KINDS.length) q.set('kinds', KINDS.filter((k) => filter.kinds.includes(k)).join(','));
  q.set('window', filter.window);
  if (filter.window === 'custom') {
    if (filter.from) q.set('from', filter.from);
    if (filter.to) q.set('to', filter.to);
  }
  return q.toString();
}

/**
 * The API's query string for one page, or `null` when no kind is chosen
 * (the server reads an empty `kinds` as all of them).
 */
export function apiQuery(filter: TimelineFilter, now: Date, page: number, perPage = 50): string | null {
  if (filter.kinds.length === 0) return null;
  const q = new URLSearchParams();
  if (filter.environment && filter.environment !== 'all') q.set('environment', filter.environment);
  if (filter.window === 'custom') {
    if (filter.from) q.set('from', filter.from);
    if (filter.to) q.set('to', filter.to);
  } else {
    q.set('from', new Date(now.getTime() - WINDOW_MS[filter.window]).toISOString());
  }
  if (filter.kinds.length !== KINDS.length) q.set('kinds', KINDS.filter((k) => filter.kinds.includes(k)).join(','));
  q.set('page', String(page));
  q.set('per_page', String(perPage));
  return q.toString();
}

/** One page of the project's timeline. */
export function fetchTimeline(api: Api, project: string, query: string): Promise<TimelinePage> {
  return api.request('GET', `/api/v1/projects/${encodeURIComponent(project)}/timeline?${query}`);
}

/** "just now", "5 min ago", "3 h ago", "2 days ago"; "in the future" for clock skew. */
export function relativeTime(at: string, now: Date): string {
  const seconds = Math.round((now.getTime() - new Date(at).getTime()) / 1000);
  if (seconds < -60) return 'in the future';
  if (seconds < 60) return 'just now';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  return days === 1 ? '1 day ago' : `${days} days ago`;
}

/** A `datetime-local` input's value (local time) as RFC 3339 in UTC; `''` stays `''`. */
export function localToIso(local: string): string {
  if (!local) return '';
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** RFC 3339 as a `datetime-local` input's value, in local time, to the minute. */
export function isoToLocal(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Entries (newest first) in runs of one local day each: `YYYY-MM-DD`. */
export function groupByDay(entries: TimelineEntry[]): { day: string; entries: TimelineEntry[] }[] {
  const groups: { day: string; entries: TimelineEntry[] }[] = [];
  for (const entry of entries) {
    const day = isoToLocal(entry.at).slice(0, 10);
    const last = groups[groups.length - 1];
    if (last && last.day === day) last.entries.push(entry);
    else groups.push({ day, entries: [entry] });
  }
  return groups;
}

/** A deploy's facts worth showing, in order, the ones it has. */
export function deployFacts(detail: Record<string, unknown>): { name: string; value: string }[] {
  return ['service', 'version', 'status', 'health', 'commit', 'url']
    .filter((name) => detail[name] !== undefined && detail[name] !== null && detail[name] !== '')
    .map((name) => ({ name, value: String(detail[name]) }));
}

/** What a change-log entry did: "toggled flag config e2e-checkout". */
export function changeWhat(detail: Record<string, unknown>): string {
  const parts = [detail.action, detail.resource, detail.key].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.map((p, i) => (i < 2 ? p.replace(/_/g, ' ') : p)).join(' ');
}
