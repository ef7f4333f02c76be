// Reconnect delays: exponential backoff with full jitter, as the Rust SDK.

export interface BackoffOptions {
  /** Base delay in milliseconds (default 500). */
  minMs?: number;
  /** Cap in milliseconds (default 30 000). */
  maxMs?: number;
}

export const DEFAULT_BACKOFF = { minMs: 500, maxMs: 30_000 } as const;

/**
 * The wait before reconnect attempt `attempt` (0-based): a random time
 * between 0 and `min(max, min · 2^attempt)`. `random` returns [0, 1).
 */
export function fullJitter(
  attempt: number,
  options: Required<BackoffOptions>,
  random: () => number,
): number {
  const ceiling = Math.min(options.maxMs, options.minMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
