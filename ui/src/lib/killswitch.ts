// The kill-switch form's model: what a person fills in, as the API's spec.

import type { KillAction, KillSwitchSpec, Matcher } from './types';

export interface KillSwitchDraft {
  name: string;
  flag: string;
  environment: string;
  triggerKind: 'alert' | 'deploy';
  matchers: Matcher[];
  service: string;
  /** Comma-separated deploy statuses; empty for the server's default. */
  statuses: string;
  action: 'disable' | 'rollback' | 'serve';
  serveVariant: string;
  restore: 'manual' | 'on_resolve';
}

export function emptyDraft(flag = '', environment = ''): KillSwitchDraft {
  return {
    name: '',
    flag,
    environment,
    triggerKind: 'alert',
    matchers: [{ label: 'alertname', op: '=', value: '' }],
    service: '',
    statuses: '',
    action: 'disable',
    serveVariant: '',
    restore: 'manual',
  };
}

export function specOf(draft: KillSwitchDraft): KillSwitchSpec {
  const statuses = draft.statuses
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const action: KillAction = draft.action === 'serve' ? { serve: draft.serveVariant } : draft.action;
  return {
    name: draft.name.trim(),
    flag: draft.flag,
    environment: draft.environment,
    trigger:
      draft.triggerKind === 'alert'
        ? { alert: { matchers: draft.matchers.map((m) => ({ ...m, label: m.label.trim() })) } }
        : { deploy: { service: draft.service.trim(), ...(statuses.length ? { statuses } : {}) } },
    action,
    restore: draft.restore,
  };
}

/** One line for a switch's trigger, for the list. */
export function describeTrigger(spec: KillSwitchSpec): string {
  if ('alert' in spec.trigger) {
    return `alert ${spec.trigger.alert.matchers.map((m) => `${m.label}${m.op}"${m.value}"`).join(', ')}`;
  }
  const statuses = spec.trigger.deploy.statuses?.join('/') ?? 'failed/rolled_back';
  return `deploy of ${spec.trigger.deploy.service} ${statuses}`;
}

export function describeAction(action: KillAction): string {
  return typeof action === 'string' ? action : `serve ${action.serve}`;
}
