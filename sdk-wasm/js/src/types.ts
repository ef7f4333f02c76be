// The JSON shapes the engine and the wire protocol use (vexil-proto).

/** Who is being evaluated: `{key, kind?, attributes?}`. */
export interface EvaluationContext {
  key: string;
  kind?: string;
  attributes?: Record<string, AttributeValue>;
}

export type AttributeValue = string | number | boolean | Array<string | number | boolean>;

export type Reason =
  | "STATIC"
  | "DEFAULT"
  | "TARGETING_MATCH"
  | "SPLIT"
  | "DISABLED"
  | "PREREQUISITE_FAILED"
  | "ERROR";

export type ErrorCode =
  | "FLAG_NOT_FOUND"
  | "PARSE_ERROR"
  | "TYPE_MISMATCH"
  | "PROVIDER_NOT_READY"
  | "TARGETING_KEY_MISSING"
  | "INVALID_CONTEXT"
  | "GENERAL";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One flag's evaluation, as the engine (and `POST /api/v1/evaluate`) returns it. */
export interface EvaluationResult {
  flag: string;
  value?: JsonValue;
  variant?: string;
  reason: Reason;
  rule_index?: number;
  rule_id?: string;
  bucket?: number;
  prerequisite?: string;
  error_code?: ErrorCode;
}

/** Provider state, as in OpenFeature and flagd. */
export type ProviderState = "NOT_READY" | "READY" | "STALE" | "ERROR";

/** A new snapshot or patch was installed. */
export interface ChangeEvent {
  /** The environment version now served. */
  version: number;
  /** Flags whose evaluation may have changed (sorted). */
  flags: string[];
}

/** The client's state moved from `previous` to `state`. */
export interface StateEvent {
  state: ProviderState;
  previous: ProviderState;
}
