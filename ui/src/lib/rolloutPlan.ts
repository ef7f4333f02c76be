// The rollout-plan form's model: what a person fills in, as the API's plan
// (and back, to start a plan over with changes), plus the words and numbers
// the plan panel shows. The draft keeps the plan's order everywhere (stages,
// regions, alert guards), so the server's JSON pointers (`/regions/1/stages/0/percent`)
// name the draft's fields as they are.

import type { ErrorDetail } from './api';
import type { Cause, Matcher, PlanStatus, PlanView, RolloutPlanSpec, Stage } from './types';

export interface StageDraft {
  /** As typed: `0.5`, `10`, `100`. */
  percent: string;
  /** Humantime text, as the server reads it: `30s`, `15m`, `2h`, `1d`. */
  hold: string;
}

export interface RegionDraft {
  region: string;
  /** Whether the region ramps with `stages` instead of the plan's. */
  ownStages: boolean;
  stages: StageDraft[];
}

export interface PlanDraft {
  variant: string;
  /** What contexts not yet exposed get. */
  control: string;
  /** Empty: the context key. */
  bucketBy: string;
  stages: StageDraft[];
  regions: RegionDraft[];
  regionAttribute: string;
  /** One entry per alert guard: its matchers, ANDed. */
  alerts: Matcher[][];
  killSwitches: boolean;
}

/** A ramp that starts small and waits between steps. */
export const DEFAULT_STAGES: readonly StageDraft[] = [
  { percent: '1', hold: '30m' },
  { percent: '10', hold: '1h' },
  { percent: '50', hold: '1h' },
  { percent: '100', hold: '1h' },
];

/** A new plan for a flag: the first variant other than `offVariant`, against `offVariant`. */
export function emptyPlanDraft(variants: string[], offVariant: string): PlanDraft {
  return {
    variant: variants.find((v) => v !== offVariant) ?? variants[0] ?? '',
    control: offVariant,
    bucketBy: '',
    stages: DEFAULT_STAGES.map((s) => ({ ...s })),
    regions: [],
    regionAttribute: 'region',
    alerts: [],
    killSwitches: true,
  };
}

export function newAlertGuard(): Matcher[] {
  return [{ label: 'alertname', op: '=', value: '' }];
}

/** A region to add; it ramps with the plan's stages until told otherwise. */
export function newRegion(region: string): RegionDraft {
  return { region, ownStages: false, stages: [] };
}

function stagesOf(drafts: StageDraft[], path: string, problems: ErrorDetail[]): Stage[] {
  return drafts.map((draft, i) => {
    const text = draft.percent.trim();
    const percent = Number(text);
    if (text === '' || !Number.isFinite(percent)) {
      problems.push({ path: `${path}/${i}/percent`, problem: 'must be a number, such as 10 or 0.5' });
    }
    const hold = draft.hold.trim();
    if (hold === '') problems.push({ path: `${path}/${i}/hold`, problem: 'needs a hold, such as 30m or 2h' });
    return { percent, hold };
  });
}

/**
 * The draft as the API's plan, or the problems that keep it from being one
 * (numbers that are not numbers, empty holds), at the pointers the server
 * would use. Everything else (ramps that go down, unknown variants, bad
 * holds, duplicate regions) is the server's to say.
 */
export function planOf(draft: PlanDraft): { plan?: RolloutPlanSpec; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const plan: RolloutPlanSpec = {
    variant: draft.variant,
    ...(draft.control ? { control: draft.control } : {}),
    ...(draft.bucketBy.trim() ? { bucket_by: draft.bucketBy.trim() } : {}),
    stages: stagesOf(draft.stages, '/stages', problems),
    regions: draft.regions.map((r, i) => ({
      region: r.region.trim(),
      ...(r.ownStages ? { stages: stagesOf(r.stages, `/regions/${i}/stages`, problems) } : {}),
    })),
    region_attribute: draft.regionAttribute.trim(),
    guards: {
      alerts: draft.alerts.map((matchers) => ({
        matchers: matchers.map((m) => ({ label: m.label.trim(), op: m.op, value: m.value })),
      })),
      kill_switches: draft.killSwitches,
    },
  };
  return problems.length ? { problems } : { plan, problems };
}

const stageDrafts = (stages: Stage[]): StageDraft[] =>
  stages.map((s) => ({ percent: String(s.percent), hold: s.hold }));

/** A plan as a draft, to start it over with changes. */
export function draftOf(plan: RolloutPlanSpec, offVariant: string): PlanDraft {
  return {
    variant: plan.variant,
    control: plan.control ?? offVariant,
    bucketBy: plan.bucket_by ?? '',
    stages: stageDrafts(plan.stages),
    regions: plan.regions.map((r) => ({
      region: r.region,
      ownStages: !!r.stages?.length,
      stages: stageDrafts(r.stages ?? []),
    })),
    regionAttribute: plan.region_attribute,
    alerts: plan.guards.alerts.map((a) => a.matchers.map((m) => ({ ...m }))),
    killSwitches: plan.guards.kill_switches,
  };
}

/** Moves entry `i` of `list` by `delta` places; the same list when it cannot move. */
export function move<T>(list: T[], i: number, delta: number): T[] {
  const j = i + delta;
  if (j < 0 || j >= list.length) return list;
  const next = [...list];
  [next[i], next[j]] = [next[j], next[i]];
  return next;
}

/** A weight (1/100 000) as a percentage for people, as the server writes it: `25 %`, `0.5 %`. */
export function percentOf(weight: number): string {
  const whole = Math.floor(weight / 1000);
  const fraction = weight % 1000;
  if (fraction === 0) return `${whole} %`;
  return `${whole}.${String(fraction).padStart(3, '0').replace(/0+$/, '')} %`;
}

/** How long until `at`, roughly: `in 29 min`, `in 2 h 5 min`, `in 3 d 4 h`, `due now`. */
export function untilText(at: string, now: Date): string {
  const ms = Date.parse(at) - now.getTime();
  if (Number.isNaN(ms)) return '';
  if (ms <= 0) return 'due now';
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `in ${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  const days = Math.floor(hours / 24);
  return `in ${days} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

/** One line per firing guard. */
export function describeCause(cause: Cause): string {
  return cause.source === 'alert'
    ? `alert ${cause.alertname} (since ${cause.starts_at})`
    : `deploy of ${cause.service} ${cause.version} ${cause.status}`;
}

/** The plan's status in words, with what the exposure is now. */
export function describeStatus(plan: Pick<PlanView, 'state'>): string {
  const { status, rolled_back } = plan.state;
  const words: Record<PlanStatus, string> = {
    running: 'running',
    paused: 'paused',
    completed: 'completed',
    aborted: 'aborted',
  };
  return rolled_back && status !== 'aborted' ? `${words[status]}, rolled back to 0 %` : words[status];
}

/** Which moves a person can make from `status` (the server refuses the others with 409). */
export function actionsFor(status: PlanStatus): { pause: boolean; resume: boolean; abort: boolean } {
  return {
    pause: status === 'running',
    resume: status === 'paused',
    abort: status === 'running' || status === 'paused',
  };
}

/** A ramp in words: `1 % for 30m → 100 % for 1h`. */
export function describeRamp(stages: Stage[]): string {
  return stages.map((s) => `${s.percent} % for ${s.hold}`).join(' → ');
}

/** One line for an alert guard's matchers: `alertname="X", severity=~"page"`. */
export function describeMatchers(matchers: Matcher[]): string {
  return matchers.map((m) => `${m.label}${m.op}"${m.value}"`).join(', ');
}
