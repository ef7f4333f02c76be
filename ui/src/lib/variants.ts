// Variant values as typed into the create-flag form, read by the flag's kind.

import type { FlagKind, Variant } from './types';

export interface VariantDraft {
  key: string;
  value: string;
}

export function defaultVariants(kind: FlagKind): VariantDraft[] {
  switch (kind) {
    case 'boolean':
      return [
        { key: 'on', value: 'true' },
        { key: 'off', value: 'false' },
      ];
    case 'number':
      return [
        { key: 'low', value: '0' },
        { key: 'high', value: '1' },
      ];
    case 'json':
      return [
        { key: 'a', value: '{}' },
        { key: 'b', value: '{"enabled": true}' },
      ];
    default:
      return [
        { key: 'a', value: 'a' },
        { key: 'b', value: 'b' },
      ];
  }
}

/** The typed value as the kind's JSON value, or the reason it is not one. */
export function parseVariantValue(kind: FlagKind, text: string): { value?: unknown; error?: string } {
  switch (kind) {
    case 'boolean':
      if (text === 'true') return { value: true };
      if (text === 'false') return { value: false };
      return { error: 'must be true or false' };
    case 'number': {
      const n = Number(text);
      return text.trim() !== '' && Number.isFinite(n) ? { value: n } : { error: 'must be a number' };
    }
    case 'json':
      try {
        return { value: JSON.parse(text) };
      } catch {
        return { error: 'must be JSON' };
      }
    default:
      return { value: text };
  }
}

/** The drafts as variants, or per-row problems (index → problem). */
export function buildVariants(kind: FlagKind, drafts: VariantDraft[]): { variants: Variant[]; problems: Record<number, string> } {
  const variants: Variant[] = [];
  const problems: Record<number, string> = {};
  drafts.forEach((draft, i) => {
    const parsed = parseVariantValue(kind, draft.value);
    if (parsed.error) problems[i] = parsed.error;
    else variants.push({ key: draft.key.trim(), value: parsed.value });
  });
  return { variants, problems };
}

export function displayValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
