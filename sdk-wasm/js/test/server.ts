// A real `vexil` server for the end-to-end test: the binary cargo built,
// started with a temporary SQLite data directory and the first admin from
// `VEXIL_ADMIN_*`, stopped with SIGTERM (a graceful shutdown: goodbye
// frames), restarted on the same port and data. And the REST calls an
// admin makes.

import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { within } from "./support.js";

const ADMIN = "admin";
const PASSWORD = "correct horse battery staple";

/** The binary: `VEXIL_BIN`, else cargo's debug build in the target directory. */
export function vexilBinary(): string {
  const repo = resolve(fileURLToPath(import.meta.url), "../../../..");
  const target = process.env.CARGO_TARGET_DIR ?? join(repo, "target");
  const binary = process.env.VEXIL_BIN ?? join(target, "debug", "vexil");
  if (!existsSync(binary)) {
    throw new Error(`no vexil binary at ${binary}: run \`cargo build -p vexil-server --bin vexil\` or set VEXIL_BIN`);
  }
  return binary;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  await new Promise((done) => probe.close(done));
  return port;
}

export class VexilServer {
  readonly base: string;
  readonly #dataDir: string;
  readonly #port: number;
  #child: ChildProcess | undefined;
  #log = "";

  private constructor(port: number, dataDir: string) {
    this.#port = port;
    this.#dataDir = dataDir;
    this.base = `http://127.0.0.1:${port}`;
  }

  static async start(): Promise<VexilServer> {
    const server = new VexilServer(await freePort(), mkdtempSync(join(tmpdir(), "vexil-js-e2e-")));
    await server.#spawn();
    return server;
  }

  async #spawn(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.VEXIL_DATABASE_URL;
    delete env.VEXIL_REDIS_URL;
    Object.assign(env, {
      VEXIL_LISTEN: `127.0.0.1:${this.#port}`,
      VEXIL_DATA_DIR: this.#dataDir,
      VEXIL_ADMIN_USERNAME: ADMIN,
      VEXIL_ADMIN_PASSWORD: PASSWORD,
      VEXIL_POLL_INTERVAL_MS: "200",
    });
    const child = spawn(vexilBinary(), ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    this.#log = "";
    // Ready once it logs that it listens (after migrations and the admin).
    const listening = new Promise<void>((ready, failed) => {
      const read = (chunk: Buffer) => {
        this.#log += String(chunk);
        if (this.#log.includes("vexil listening on")) {
          ready();
        }
      };
      child.stdout?.on("data", read);
      child.stderr?.on("data", read);
      child.on("exit", (code) => failed(new Error(`vexil exited (${code}):\n${this.#log}`)));
    });
    await within("the server to listen", listening);
  }

  /** The server's output so far, for failure messages. */
  get log(): string {
    return this.#log;
  }

  /** An admin's REST session. */
  async login(): Promise<Api> {
    const response = await fetch(`${this.base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: ADMIN, password: PASSWORD }),
    });
    if (response.status !== 200) {
      throw new Error(`login: ${response.status} ${await response.text()}`);
    }
    const { token } = (await response.json()) as { token: string };
    return new Api(this.base, token);
  }

  /** One series of `/metrics`, 0 if absent. */
  async metric(series: string): Promise<number> {
    const text = await (await fetch(`${this.base}/metrics`)).text();
    for (const line of text.split("\n")) {
      if (line.startsWith(`${series} `)) {
        return Number(line.slice(series.length + 1));
      }
    }
    return 0;
  }

  /** SIGTERM, and wait for the process to exit (its port is then free). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) {
      return;
    }
    this.#child = undefined;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await within("the server to exit", exited);
  }

  /** Stops, then starts again on the same port with the same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.#dataDir, { recursive: true, force: true });
  }
}

const PRODUCTION = "/api/v1/projects/default/environments/production";

/** The REST API as an admin uses it. */
export class Api {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  async call(method: string, path: string, body: unknown, expected: number): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status !== expected) {
      throw new Error(`${method} ${path}: ${response.status} ${text}`);
    }
    return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
  }

  /** A boolean flag, `on` for everyone in production once enabled (created off). */
  async createFlag(key: string): Promise<void> {
    await this.call(
      "POST",
      "/api/v1/projects/default/flags",
      {
        key,
        name: key,
        kind: "boolean",
        variants: [
          { key: "on", value: true },
          { key: "off", value: false },
        ],
      },
      201,
    );
    await this.call(
      "PUT",
      `/api/v1/projects/default/flags/${key}/environments/production`,
      { enabled: false, off_variant: "off", targets: [], rules: [], default_serve: { variant: "on" }, prerequisites: [] },
      200,
    );
  }

  /** The one-click switch in production. */
  async toggle(key: string, enabled: boolean): Promise<void> {
    await this.call("POST", `/api/v1/projects/default/flags/${key}/environments/production/toggle`, { enabled }, 200);
  }

  /** A new SDK key for production: `{id, token}`. */
  async sdkKey(name: string): Promise<{ id: string; token: string }> {
    const body = await this.call("POST", `${PRODUCTION}/sdk-keys`, { name }, 201);
    return { id: body.id as string, token: body.token as string };
  }

  async revoke(id: string): Promise<void> {
    await this.call("DELETE", `${PRODUCTION}/sdk-keys/${id}`, undefined, 204);
  }
}
