// A real `vexil serve` for the browser tests: a fresh data directory, a free
// port on 127.0.0.1, a first admin, and a bounded wait until /readyz answers.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ADMIN = { username: 'admin', password: 'e2e admin password, long enough' };

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts the binary at `bin`; resolves once it is ready (at most `deadlineMs`). */
export async function startServer(bin, deadlineMs = 30_000) {
  const dataDir = mkdtempSync(join(tmpdir(), 'vexil-ui-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
    env: {
      ...process.env,
      VEXIL_ADMIN_USERNAME: ADMIN.username,
      VEXIL_ADMIN_PASSWORD: ADMIN.password,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };

  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vexil exited with ${child.exitCode}: ${stderr}`);
    try {
      const ready = await fetch(`${url}/readyz`);
      if (ready.ok) return { url, stop };
    } catch {
      // Not listening yet.
    }
    if (Date.now() - started > deadlineMs) {
      await stop();
      throw new Error(`vexil was not ready after ${deadlineMs} ms: ${stderr}`);
    }
    // Polls a condition with a deadline (above), not a wait for luck.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A small REST client for setting up and checking what the browser did. */
export async function apiAs(url, username, password) {
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const { token } = await login.json();
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}
