// The preview's context as typed: a key and `name=value` lines.

import type { Context } from './types';

/** A typed attribute value: numbers and booleans as such, the rest as text. */
export function attributeValue(text: string): unknown {
  const t = text.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

/** `key` and lines of `name=value` as a context, or the line that is wrong. */
export function parseContext(key: string, lines: string): { context?: Context; error?: string } {
  if (!key.trim()) return { error: 'the context needs a key' };
  const attributes: Record<string, unknown> = {};
  for (const [n, raw] of lines.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { error: `line ${n + 1}: write name=value` };
    attributes[line.slice(0, eq).trim()] = attributeValue(line.slice(eq + 1));
  }
  return { context: { key: key.trim(), attributes } };
}
