/**
 * Set-up file of the `unit` project: a unit test runs in its own process and nowhere else.
 * Starting a process (a CLI run, Python, esbuild's service, `cdk synth`) or opening a socket
 * throws, naming what was attempted, so a slow or machine-dependent test cannot slip back into
 * the fast tier unnoticed: such a test belongs in test/integration/.
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

function refuse(what: string): never {
  throw new Error(
    `${what} in a unit test: the unit tier starts no process and opens no socket; move the test to test/integration/`,
  );
}

const PROCESS_STARTERS = [
  'spawn',
  'spawnSync',
  'exec',
  'execSync',
  'execFile',
  'execFileSync',
  'fork',
] as const;
for (const name of PROCESS_STARTERS) {
  Object.defineProperty(childProcess, name, { value: () => refuse(`child_process.${name}`) });
}
net.Socket.prototype.connect = () => refuse('a socket connection');
net.Server.prototype.listen = () => refuse('a listening socket');
// Named imports (`import { spawnSync } from 'node:child_process'`) read the patched functions too.
syncBuiltinESMExports();
