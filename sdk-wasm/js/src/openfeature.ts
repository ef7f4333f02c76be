// An OpenFeature web provider (`@openfeature/web-sdk`) over a VexilClient.
// Values resolve locally and synchronously, as the web SDK's static-context
// paradigm expects; state changes and flag changes become provider events.

import {
  ErrorCode,
  GeneralError,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type EvaluationContext as OfContext,
  type FlagMetadata,
  type Hook,
  type JsonValue as OfJsonValue,
  type Provider,
  type ResolutionDetails,
} from "@openfeature/web-sdk";

import type { VexilClient } from "./client.js";
import type { Details } from "./details.js";
import type { AttributeValue, EvaluationContext, JsonValue } from "./types.js";

/** The provider's name in OpenFeature's metadata. */
export const PROVIDER_NAME = "vexil";

/**
 * Resolves flags through a `VexilClient`:
 *
 * ```ts
 * await OpenFeature.setProviderAndWait(new VexilWebProvider(client));
 * ```
 *
 * Reasons map to OpenFeature's; Vexil's `PREREQUISITE_FAILED` is `DEFAULT`
 * with the failed prerequisite in the flag metadata (`prerequisite`), as
 * are the deciding rule (`rule_id`) and a rollout's bucket (`bucket`).
 * Errors come back as resolution errors, and the SDK returns the default.
 */
export class VexilWebProvider implements Provider {
  readonly metadata = { name: PROVIDER_NAME } as const;
  readonly runsOn = "client" as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly hooks: Hook[] = [];
  readonly #client: VexilClient;
  readonly #unsubscribe: Array<() => void> = [];

  constructor(client: VexilClient) {
    this.#client = client;
  }

  /** The client behind the provider. */
  get client(): VexilClient {
    return this.#client;
  }

  /**
   * Waits for the client's first state: resolves on `READY` and on `STALE`
   * (serving a bootstrap, then a `PROVIDER_STALE` event), throws on `ERROR`
   * (no data). Later state changes and flag changes become events.
   */
  async initialize(): Promise<void> {
    const state = await this.#client.ready();
    this.#unsubscribe.push(
      this.#client.onStateChange(({ state }) => {
        switch (state) {
          case "READY":
            this.events.emit(ProviderEvents.Ready);
            break;
          case "STALE":
            this.events.emit(ProviderEvents.Stale, { message: "disconnected; serving the last snapshot" });
            break;
          case "ERROR":
            this.events.emit(ProviderEvents.Error, { message: "the server refused the SDK key" });
            break;
          case "NOT_READY":
            break;
        }
      }),
      this.#client.onChange(({ flags }) => {
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: flags });
      }),
    );
    if (state === "ERROR") {
      throw new GeneralError("Vexil has no flag data: no snapshot within the init timeout, or the key was refused");
    }
    if (state === "STALE") {
      queueMicrotask(() => this.events.emit(ProviderEvents.Stale, { message: "serving the bootstrap snapshot" }));
    }
  }

  async onClose(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) {
      off();
    }
    this.#client.close();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: OfContext): ResolutionDetails<boolean> {
    return this.#resolve(context, defaultValue, (ctx) => this.#client.boolDetails(flagKey, ctx, defaultValue));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: OfContext): ResolutionDetails<string> {
    return this.#resolve(context, defaultValue, (ctx) => this.#client.stringDetails(flagKey, ctx, defaultValue));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: OfContext): ResolutionDetails<number> {
    return this.#resolve(context, defaultValue, (ctx) => this.#client.numberDetails(flagKey, ctx, defaultValue));
  }

  resolveObjectEvaluation<T extends OfJsonValue>(
    flagKey: string,
    defaultValue: T,
    context: OfContext,
  ): ResolutionDetails<T> {
    return this.#resolve(context, defaultValue, (ctx) => {
      const found = this.#client.jsonDetails(flagKey, ctx, defaultValue as JsonValue);
      if (found.errorCode === undefined && (typeof found.value !== "object" || found.value === null)) {
        return { ...found, value: defaultValue, reason: "ERROR", errorCode: "TYPE_MISMATCH" };
      }
      return found as Details<T>;
    });
  }

  #resolve<T>(context: OfContext, defaultValue: T, evaluate: (ctx: EvaluationContext) => Details<T>): ResolutionDetails<T> {
    const converted = toContext(context);
    if (typeof converted === "string") {
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.INVALID_CONTEXT,
        errorMessage: converted,
      };
    }
    return resolution(evaluate(converted));
  }
}

/**
 * A Vexil context from OpenFeature's: the targeting key is the context key
 * (empty when absent: flags that do not target still evaluate), a string
 * `kind` is the context kind, dates become ISO 8601 strings. Returns why
 * when an attribute cannot be used (structures, nested lists, null).
 */
export function toContext(context: OfContext): EvaluationContext | string {
  const vexil: EvaluationContext = { key: context.targetingKey ?? "" };
  const attributes: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(context)) {
    if (name === "targetingKey" || value === undefined) {
      continue;
    }
    if (name === "kind" && typeof value === "string") {
      vexil.kind = value;
      continue;
    }
    const scalar = toScalar(value);
    if (scalar !== undefined) {
      attributes[name] = scalar;
    } else if (Array.isArray(value)) {
      const items = value.map(toScalar);
      if (items.some((item) => item === undefined)) {
        return `${name}: lists may hold only strings, numbers and booleans`;
      }
      attributes[name] = items as Array<string | number | boolean>;
    } else {
      return `${name}: structure attributes are not supported`;
    }
  }
  if (Object.keys(attributes).length > 0) {
    vexil.attributes = attributes;
  }
  return vexil;
}

function toScalar(value: unknown): string | number | boolean | undefined {
  if (typeof value === "string" || typeof value === "boolean") {
    return value;
  }
  if (typeof value === "number") {
    return Number.isFinite(value) ? value : undefined;
  }
  if (value instanceof Date) {
    return value.toISOString();
  }
  return undefined;
}

function resolution<T>(details: Details<T>): ResolutionDetails<T> {
  const flagMetadata: FlagMetadata = {};
  if (details.prerequisite !== undefined) {
    flagMetadata.prerequisite = details.prerequisite;
  }
  if (details.ruleId !== undefined) {
    flagMetadata.rule_id = details.ruleId;
  }
  if (details.bucket !== undefined) {
    flagMetadata.bucket = details.bucket;
  }
  if (details.errorCode !== undefined) {
    return {
      value: details.value,
      reason: StandardResolutionReasons.ERROR,
      errorCode: errorCode(details.errorCode),
      errorMessage: details.errorCode,
      flagMetadata,
    };
  }
  return {
    value: details.value,
    ...(details.variant !== undefined && { variant: details.variant }),
    reason: details.reason === "PREREQUISITE_FAILED" ? StandardResolutionReasons.DEFAULT : details.reason,
    flagMetadata,
  };
}

function errorCode(code: NonNullable<Details<unknown>["errorCode"]>): ErrorCode {
  switch (code) {
    case "FLAG_NOT_FOUND":
      return ErrorCode.FLAG_NOT_FOUND;
    case "TYPE_MISMATCH":
      return ErrorCode.TYPE_MISMATCH;
    case "PARSE_ERROR":
      return ErrorCode.PARSE_ERROR;
    case "PROVIDER_NOT_READY":
      return ErrorCode.PROVIDER_NOT_READY;
    case "TARGETING_KEY_MISSING":
      return ErrorCode.TARGETING_KEY_MISSING;
    case "INVALID_CONTEXT":
      return ErrorCode.INVALID_CONTEXT;
    case "GENERAL":
      return ErrorCode.GENERAL;
  }
}
