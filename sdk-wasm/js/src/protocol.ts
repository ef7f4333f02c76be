// The stream's constants, as `vexil_proto::wire` and docs/streaming.md
// define them.

/** The subprotocol that carries the SDK key: `vexil.<key>`. */
export const SUBPROTOCOL_PREFIX = "vexil.";
/** A missing, malformed, unknown or expired key. */
export const CLOSE_BAD_KEY = 4401;
/** A revoked key, or its environment deleted. */
export const CLOSE_KEY_REVOKED = 4403;
/** The server pings this often; the client does too. */
export const PING_INTERVAL_MS = 15_000;
/** A peer silent this long is gone. */
export const PEER_TIMEOUT_MS = 45_000;
/** A connection attempt that takes longer counts as failed. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** The name the client gives in `hello`. */
export const SDK_NAME = "vexil-sdk-js";
/** The package version, sent in `hello`. */
export const SDK_VERSION = "0.1.0";

/** The stream's URL from the server's base URL (`http(s)://host[/prefix]`). */
export function streamUrl(base: string): string {
  const url = new URL(base);
  if (url.protocol === "http:") {
    url.protocol = "ws:";
  } else if (url.protocol === "https:") {
    url.protocol = "wss:";
  } else if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new TypeError(`the server URL must be http(s) or ws(s), not ${url.protocol}`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/api/v1/stream`;
  url.search = "";
  url.hash = "";
  return url.toString();
}
