/**
 * The process plumbing of the local services: detached servers with pid files and logs under the
 * state directory, health and port probes, and stopping a server with its workers.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { logFile, pidFile, ROOT } from './local-paths';
import { ServiceStartError } from './service-error';

export function readPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function startDetached(
  name: string,
  cmd: string,
  args: string[],
  extraEnv: Record<string, string>,
): void {
  const out = openSync(logFile(name), 'a');
  const child = spawn(cmd, args, {
    detached: true, // its own process group, so `down` stops its workers too
    stdio: ['ignore', out, out],
    env: { ...process.env, ...extraEnv },
    cwd: ROOT,
  });
  child.unref();
  if (!child.pid) throw new ServiceStartError(`could not start ${name} (${cmd})`);
  writeFileSync(pidFile(name), String(child.pid));
}

/** Stops a server started by `startDetached`, if it runs, and forgets its pid. */
export async function stopDetached(name: string, log: (line: string) => void): Promise<void> {
  const pid = readPid(name);
  if (pid && isAlive(pid)) {
    log(`stopping ${name} (pid ${pid})`);
    await killGroup(pid);
  }
  rmSync(pidFile(name), { force: true });
}

export async function killGroup(pid: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && isGroupAlive(pid)) await sleep(200);
  if (isGroupAlive(pid)) signal('SIGKILL');
  while (isGroupAlive(pid)) await sleep(100);
}

function isGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return isAlive(pid);
  }
}

export async function waitHealthy(name: string, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pid = readPid(name);
  while (Date.now() < deadline) {
    if (await isHealthy(url)) return;
    if (pid && !isAlive(pid)) break;
    await sleep(500);
  }
  const reason = pid && !isAlive(pid) ? 'exited' : `was not healthy after ${timeoutMs / 1000}s`;
  throw new ServiceStartError(`${name} ${reason}. Last lines of ${logFile(name)}:\n${tail(logFile(name))}`);
}

export async function isHealthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

export function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePort(true);
    });
    socket.once('error', () => resolvePort(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolvePort(false);
    });
  });
}

export function tail(file: string, lines = 30): string {
  if (!existsSync(file) || statSync(file).size === 0) return '(empty log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
