// The REST API's shapes, as the UI uses them (docs/api.md, /api/openapi.json).

export type Role = 'viewer' | 'editor' | 'admin';
export type FlagKind = 'boolean' | 'string' | 'number' | 'json';

export interface Session {
  token: string;
  expires_at: string;
  username: string;
  role: Role;
}

export interface Page<T> {
  items: T[];
  total: number;
  page?: number;
  per_page?: number;
}

export interface Project {
  key: string;
  name: string;
  description: string;
  version: number;
}

export interface Environment {
  project: string;
  key: string;
  name: string;
  production: boolean;
  version: number;
}

export interface Variant {
  key: string;
  value: unknown;
  name?: string;
  description?: string;
}

export interface Flag {
  key: string;
  name: string;
  description: string;
  tags: string[];
  owner?: string | null;
  kind: FlagKind;
  variants: Variant[];
  temporary: boolean;
  version: number;
  archived: boolean;
  created_at: string;
  updated_at: string;
  /** Environment → when an SDK last reported evaluating the flag there. */
  last_evaluated?: Record<string, string>;
}

export interface Weight {
  variant: string;
  weight: number;
}

export interface Rollout {
  bucket_by?: string;
  salt?: string;
  weights: Weight[];
  fallback?: string;
  algorithm?: number;
}

export type Serve = { variant: string } | { rollout: Rollout };

export const OPERATORS = [
  'in',
  'contains',
  'starts_with',
  'ends_with',
  'matches',
  'eq',
  'lt',
  'lte',
  'gt',
  'gte',
  'semver_eq',
  'semver_lt',
  'semver_gt',
  'before',
  'after',
  'in_segment',
  'exists',
] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Clause {
  attribute: string;
  op: Operator;
  values: unknown[];
  negate?: boolean;
}

export interface Rule {
  id: string;
  description?: string;
  clauses: Clause[];
  serve: Serve;
}

export interface Target {
  variant: string;
  values: string[];
}

export interface Prerequisite {
  flag: string;
  variant: string;
}

export interface FlagConfig {
  enabled: boolean;
  off_variant: string;
  targets: Target[];
  rules: Rule[];
  default_serve: Serve;
  prerequisites: Prerequisite[];
  version: number;
}

export interface Segment {
  key: string;
  name: string;
}

export interface EvaluationResult {
  flag: string;
  value: unknown;
  variant?: string;
  reason: string;
  rule_index?: number;
  rule_id?: string;
  bucket?: number;
  error_code?: string;
}

export interface Explanation {
  result: EvaluationResult;
  rules?: { id: string; matched: boolean }[];
  rollout?: unknown;
  [more: string]: unknown;
}

export interface Change {
  id?: string;
  resource: string;
  key: string;
  action: string;
  environment: string | null;
  actor: string;
  reason: string | null;
  at?: string;
  created_at?: string;
  before: unknown;
  after: unknown;
}

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export type Trigger = { alert: { matchers: Matcher[] } } | { deploy: { service: string; statuses?: string[] } };
export type KillAction = 'disable' | 'rollback' | { serve: string };

/** What a kill switch is, as written (`POST …/kill-switches`). */
export interface KillSwitchSpec {
  name: string;
  flag: string;
  environment: string;
  trigger: Trigger;
  action: KillAction;
  restore: 'manual' | 'on_resolve';
}

export interface KillSwitch extends KillSwitchSpec {
  id: string;
  version: number;
  state: { status: string; tripped_at: string | null; tripped_by: unknown[] };
}

export interface Context {
  key: string;
  kind?: string;
  attributes?: Record<string, unknown>;
}

/** One step of a rollout plan's ramp; `hold` is humantime text (`30m`, `1h 30m`). */
export interface Stage {
  percent: number;
  hold: string;
}

export interface RegionPlan {
  region: string;
  /** Left out: the plan's `stages`. */
  stages?: Stage[];
}

export interface Guards {
  /** Each entry is one set of matchers, ANDed; an alert matching any entry fires. */
  alerts: { matchers: Matcher[] }[];
  kill_switches: boolean;
}

/** A rollout plan as written (`PUT …/environments/{env}/rollout-plan`). */
export interface RolloutPlanSpec {
  variant: string;
  /** Left out: the config's off variant. */
  control?: string;
  bucket_by?: string;
  stages: Stage[];
  regions: RegionPlan[];
  region_attribute: string;
  guards: Guards;
}

export type PlanStatus = 'running' | 'paused' | 'completed' | 'aborted';

/** An alert or deploy that fired a guard or tripped a kill switch. */
export type Cause =
  | { source: 'alert'; fingerprint: string; alertname: string; starts_at: string }
  | { source: 'deploy'; service: string; version: string; status: string };

export interface PlanState {
  status: PlanStatus;
  /** Index of the region ramping now. */
  region: number;
  /** Index of the stage within that region's stages. */
  stage: number;
  stage_started_at: string;
  /** The exposure is rolled back to 0 (a guard fired, or aborted). */
  rolled_back: boolean;
  note?: { actor: string; at: string; reason: string };
  firing: Cause[];
}

/** One region's (or everyone's, without `region`) share, in 1/100 000. */
export interface Share {
  region?: string;
  weight: number;
}

/** A stored plan as the API shows it. */
export interface PlanView extends RolloutPlanSpec {
  project: string;
  flag: string;
  environment: string;
  state: PlanState;
  version: number;
  created_at: string;
  updated_at: string;
  /** `stage 2 of 4 in eu-west-1 (region 1 of 3)`. */
  position: string;
  exposure: Share[];
  /** When the current stage's hold ends, while running. */
  next_step_at?: string | null;
}
