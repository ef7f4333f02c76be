// The logged-in user, kept in `sessionStorage` (one tab's session, gone when
// the tab closes) until the token expires.

import type { Role, Session } from './types';

const KEY = 'vexil.session';

/** What `role` may do: viewers read, editors write flags, admins everything. */
export function canEdit(role: Role | undefined): boolean {
  return role === 'editor' || role === 'admin';
}

export function isExpired(session: Session, now: Date = new Date()): boolean {
  const expires = Date.parse(session.expires_at);
  return Number.isNaN(expires) || expires <= now.getTime();
}

export function loadSession(storage: Storage | undefined = globalThis.sessionStorage): Session | null {
  const raw = storage?.getItem(KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as Session;
    if (typeof session.token !== 'string' || isExpired(session)) {
      storage?.removeItem(KEY);
      return null;
    }
    return session;
  } catch {
    storage?.removeItem(KEY);
    return null;
  }
}

export function saveSession(session: Session | null, storage: Storage | undefined = globalThis.sessionStorage) {
  if (session) storage?.setItem(KEY, JSON.stringify(session));
  else storage?.removeItem(KEY);
}
