// How a failed call reads to a person.

import { ApiError } from './api';

export function messageOf(error: unknown): string {
  if (error instanceof ApiError && error.isConflict) {
    return `Someone else changed this since you loaded it (${error.message}). The page now shows the current state; make your change again.`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
