// The REST API client: one `fetch` per call, the session's bearer token,
// `If-Match` for optimistic concurrency, `X-Vexil-Reason` for the change log,
// and every non-2xx answer turned into an `ApiError` (the server's one error
// shape: `{"error": {"code", "message", "details"?}}`).

import type {
  Change,
  Context,
  Environment,
  Explanation,
  Flag,
  FlagConfig,
  KillSwitch,
  KillSwitchSpec,
  Page,
  PlanView,
  Project,
  RolloutPlanSpec,
  Segment,
  Session,
} from './types';

/** One problem of a 422: a JSON pointer into the request body. */
export interface ErrorDetail {
  path: string;
  problem: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Someone else changed the object since it was read: reload and retry. */
  get isConflict(): boolean {
    return this.status === 409;
  }

  /** The session is missing, expired or revoked: log in again. */
  get isUnauthorized(): boolean {
    return this.status === 401;
  }
}

/** Options of one write. */
export interface WriteOptions {
  /** The version read; the server refuses the write (409) if it moved on. */
  ifMatch?: number;
  /** Why, for the change log. */
  reason?: string;
}

type Fetch = typeof fetch;

const enc = encodeURIComponent;

/** Parses an error answer; a body that is not the API's shape still gives a message. */
export async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as {
      error?: { code?: string; message?: string; details?: ErrorDetail[] };
    };
    if (body.error && typeof body.error.message === 'string') {
      return new ApiError(
        response.status,
        body.error.code ?? 'error',
        body.error.message,
        Array.isArray(body.error.details) ? body.error.details : [],
      );
    }
  } catch {
    // Not JSON: a proxy's page, say. Fall through.
  }
  const message = text.trim() || response.statusText || `HTTP ${response.status}`;
  return new ApiError(response.status, 'http', message.slice(0, 300));
}

export class Api {
  private readonly base: string;
  private readonly fetchImpl: Fetch;
  /** The bearer token; `null` before login. */
  token: string | null;
  /** Called on every 401, so the app can show the login page. */
  onUnauthorized: (() => void) | null = null;

  constructor(base = '', token: string | null = null, fetchImpl: Fetch = (...a) => fetch(...a)) {
    this.base = base.replace(/\/$/, '');
    this.token = token;
    this.fetchImpl = fetchImpl;
  }

  /** One call; `undefined` for a 204. */
  async request<T>(method: string, path: string, body?: unknown, opts: WriteOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.ifMatch !== undefined) headers['If-Match'] = `"${opts.ifMatch}"`;
    if (opts.reason) headers['X-Vexil-Reason'] = opts.reason;
    const response = await this.fetchImpl(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const error = await errorFrom(response);
      if (error.isUnauthorized && this.token) this.onUnauthorized?.();
      throw error;
    }
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  login(username: string, password: string): Promise<Session> {
    return this.request('POST', '/api/v1/auth/login', { username, password });
  }

  projects(): Promise<Page<Project>> {
    return this.request('GET', '/api/v1/projects?per_page=100');
  }

  environments(project: string): Promise<Page<Environment>> {
    return this.request('GET', `/api/v1/projects/${enc(project)}/environments?per_page=100`);
  }

  flags(project: string, query: { q?: string; tag?: string; page?: number; perPage?: number } = {}) {
    const params = new URLSearchParams();
    if (query.q) params.set('q', query.q);
    if (query.tag) params.set('tag', query.tag);
    params.set('page', String(query.page ?? 1));
    params.set('per_page', String(query.perPage ?? 50));
    return this.request<Page<Flag>>('GET', `/api/v1/projects/${enc(project)}/flags?${params}`);
  }

  flag(project: string, key: string): Promise<Flag> {
    return this.request('GET', `/api/v1/projects/${enc(project)}/flags/${enc(key)}`);
  }

  createFlag(project: string, flag: Partial<Flag>): Promise<Flag> {
    return this.request('POST', `/api/v1/projects/${enc(project)}/flags`, flag);
  }

  private configPath(project: string, flag: string, env: string) {
    return `/api/v1/projects/${enc(project)}/flags/${enc(flag)}/environments/${enc(env)}`;
  }

  config(project: string, flag: string, env: string): Promise<FlagConfig> {
    return this.request('GET', this.configPath(project, flag, env));
  }

  /** Replaces a config; the body leaves out `version` (it goes as `If-Match`). */
  putConfig(project: string, flag: string, env: string, config: FlagConfig, reason?: string) {
    const { version, ...body } = config;
    return this.request<FlagConfig>('PUT', this.configPath(project, flag, env), body, {
      ifMatch: version,
      reason,
    });
  }

  toggle(project: string, flag: string, env: string, enabled: boolean, opts: WriteOptions = {}) {
    const body: { enabled: boolean; reason?: string } = { enabled };
    if (opts.reason) body.reason = opts.reason;
    return this.request<FlagConfig>('POST', `${this.configPath(project, flag, env)}/toggle`, body, {
      ifMatch: opts.ifMatch,
    });
  }

  /** The environment's snapshot as SDKs get it, as JSON text (for the in-browser engine). */
  async snapshotText(project: string, env: string): Promise<string> {
    const snapshot = await this.request<unknown>(
      'GET',
      `/api/v1/projects/${enc(project)}/environments/${enc(env)}/snapshot`,
    );
    return JSON.stringify(snapshot);
  }

  explain(project: string, flag: string, env: string, context: Context): Promise<Explanation> {
    return this.request('POST', `${this.configPath(project, flag, env)}/explain`, { context });
  }

  segments(project: string): Promise<Page<Segment>> {
    return this.request('GET', `/api/v1/projects/${enc(project)}/segments?per_page=100`);
  }

  changes(project: string, filter: { flag?: string; environment?: string; page?: number; perPage?: number } = {}) {
    const params = new URLSearchParams();
    if (filter.flag) params.set('flag', filter.flag);
    if (filter.environment) params.set('environment', filter.environment);
    params.set('page', String(filter.page ?? 1));
    params.set('per_page', String(filter.perPage ?? 50));
    return this.request<Page<Change>>('GET', `/api/v1/projects/${enc(project)}/changes?${params}`);
  }

  createKillSwitch(project: string, spec: KillSwitchSpec): Promise<KillSwitch> {
    return this.request('POST', `/api/v1/projects/${enc(project)}/kill-switches`, spec);
  }

  /** Re-arms a tripped switch. */
  resetKillSwitch(project: string, id: string, reason?: string): Promise<KillSwitch> {
    return this.request('POST', `/api/v1/projects/${enc(project)}/kill-switches/${enc(id)}/reset`, undefined, {
      reason,
    });
  }

  deleteKillSwitch(project: string, switchId: string, version: number, reason?: string): Promise<void> {
    return this.request('DELETE', `/api/v1/projects/${enc(project)}/kill-switches/${enc(switchId)}`, undefined, {
      ifMatch: version,
      reason,
    });
  }

  /** The project's kill switches; an empty list on a server without them. */
  async killSwitches(project: string): Promise<KillSwitch[]> {
    try {
      const page = await this.request<Page<KillSwitch>>(
        'GET',
        `/api/v1/projects/${enc(project)}/kill-switches?per_page=100`,
      );
      return page.items;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'not_found') {
        return [];
      }
      throw error;
    }
  }

  /** The project's rollout plans; an empty list on a server without them. */
  async rolloutPlans(project: string): Promise<PlanView[]> {
    try {
      return await this.request<PlanView[]>('GET', `/api/v1/projects/${enc(project)}/rollout-plans`);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  private planPath(project: string, flag: string, env: string) {
    return `${this.configPath(project, flag, env)}/rollout-plan`;
  }

  /** The flag's plan in `env`, or `null` when it has none. */
  async rolloutPlan(project: string, flag: string, env: string): Promise<PlanView | null> {
    try {
      return await this.request<PlanView>('GET', this.planPath(project, flag, env));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Starts a plan, or starts the one there over (with its version as `If-Match`). */
  putRolloutPlan(project: string, flag: string, env: string, spec: RolloutPlanSpec, opts: WriteOptions = {}) {
    return this.request<PlanView>('PUT', this.planPath(project, flag, env), spec, opts);
  }

  /** Pauses, resumes or aborts the plan; the reason becomes its note. */
  rolloutPlanAction(project: string, flag: string, env: string, action: PlanAction, opts: WriteOptions = {}) {
    return this.request<PlanView>('POST', `${this.planPath(project, flag, env)}/${action}`, undefined, opts);
  }

  /** Removes the plan; the flag's config stays as the plan left it. */
  deleteRolloutPlan(project: string, flag: string, env: string, opts: WriteOptions = {}): Promise<void> {
    return this.request('DELETE', this.planPath(project, flag, env), undefined, opts);
  }
}

export type PlanAction = 'pause' | 'resume' | 'abort';

/** The API's 404: no such object, or no such endpoint on an older server. */
function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.code === 'not_found';
}
