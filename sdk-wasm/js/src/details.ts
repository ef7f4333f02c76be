// A typed value from an evaluation: the application's default unless the
// flag served a value of the asked type.

import type { ErrorCode, EvaluationResult, Reason } from "./types.js";

/** A typed value with how it was decided. */
export interface Details<T> {
  flagKey: string;
  /** The flag's value, or the caller's default on any error. */
  value: T;
  variant?: string;
  reason: Reason;
  /** Set when `value` is the caller's default because of an error. */
  errorCode?: ErrorCode;
  ruleId?: string;
  bucket?: number;
  /** The prerequisite that failed (reason `PREREQUISITE_FAILED`). */
  prerequisite?: string;
}

/**
 * `result` as `Details<T>`: its value when `accepts` it, else the default
 * with `TYPE_MISMATCH`; the default with the result's error code on errors.
 */
export function details<T>(
  result: EvaluationResult,
  defaultValue: T,
  accepts: (value: unknown) => value is T,
): Details<T> {
  const base = {
    flagKey: result.flag,
    reason: result.reason,
    ...(result.rule_id !== undefined && { ruleId: result.rule_id }),
    ...(result.bucket !== undefined && { bucket: result.bucket }),
    ...(result.prerequisite !== undefined && { prerequisite: result.prerequisite }),
  };
  if (result.error_code !== undefined) {
    return { ...base, value: defaultValue, reason: "ERROR", errorCode: result.error_code };
  }
  if (!accepts(result.value)) {
    return { ...base, value: defaultValue, reason: "ERROR", errorCode: "TYPE_MISMATCH" };
  }
  return { ...base, value: result.value, ...(result.variant !== undefined && { variant: result.variant }) };
}
