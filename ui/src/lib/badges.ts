// The flags list's badges, from a flag, its configs, the kill switches and
// the rollout plans.

import { isPartialRollout } from './rules';
import type { Flag, FlagConfig, KillSwitch, PlanView } from './types';

/** A flag nobody evaluated for this many days is stale. */
export const STALE_AFTER_DAYS = 7;
const DAY_MS = 86_400_000;

export type Badge = 'killed' | 'plan-running' | 'plan-paused' | 'rollout' | 'stale' | 'temporary';

export const BADGE_LABELS: Record<Badge, string> = {
  killed: 'killed by automation',
  'plan-running': 'rollout plan running',
  'plan-paused': 'rollout plan paused',
  rollout: 'rollout in progress',
  stale: 'stale',
  temporary: 'temporary',
};

/**
 * Stale: no SDK reported evaluating it in any environment for
 * `STALE_AFTER_DAYS` days; a flag younger than that is never stale.
 */
export function isStale(flag: Flag, now: Date, days = STALE_AFTER_DAYS): boolean {
  const cutoff = now.getTime() - days * DAY_MS;
  if (Date.parse(flag.created_at) > cutoff) return false;
  const last = Object.values(flag.last_evaluated ?? {})
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  return last.length === 0 || Math.max(...last) <= cutoff;
}

/** Some enabled environment serves a percentage split, from a rule or by default. */
export function hasRolloutInProgress(configs: (FlagConfig | undefined)[]): boolean {
  return configs.some(
    (c) => !!c && c.enabled && (isPartialRollout(c.default_serve) || c.rules.some((r) => isPartialRollout(r.serve))),
  );
}

export function badgesFor(
  flag: Flag,
  configs: (FlagConfig | undefined)[],
  switches: KillSwitch[],
  now: Date,
  plans: Pick<PlanView, 'flag' | 'state'>[] = [],
): Badge[] {
  const badges: Badge[] = [];
  if (switches.some((s) => s.flag === flag.key && s.state.status === 'tripped')) badges.push('killed');
  const statuses = plans.filter((p) => p.flag === flag.key).map((p) => p.state.status);
  if (statuses.includes('running')) badges.push('plan-running');
  if (statuses.includes('paused')) badges.push('plan-paused');
  if (hasRolloutInProgress(configs)) badges.push('rollout');
  if (isStale(flag, now)) badges.push('stale');
  if (flag.temporary) badges.push('temporary');
  return badges;
}
