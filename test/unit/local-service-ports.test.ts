import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../bin/cli/program';
import { portFromEnv } from '../../localstack/services/port-setting';
import { ServiceStartError, up } from '../../localstack/services/services';

describe('local service ports', () => {
  const saved = {
    MLOPS_MLFLOW_PORT: process.env.MLOPS_MLFLOW_PORT,
    MLOPS_AWS_PORT: process.env.MLOPS_AWS_PORT,
  };
  afterEach(() => {
    vi.restoreAllMocks();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('takes the default when unset or blank and a whole number in range otherwise', () => {
    expect(portFromEnv({}, 'P', 5000, Error)).toBe(5000);
    expect(portFromEnv({ P: '  ' }, 'P', 5000, Error)).toBe(5000);
    expect(portFromEnv({ P: ' 5100 ' }, 'P', 5000, Error)).toBe(5100);
  });

  it.each(['50o0', '0', '65536', '1.5', '-1'])('rejects %j naming the variable', (value) => {
    expect(() => portFromEnv({ P: value }, 'P', 5000, ServiceStartError)).toThrow(
      new ServiceStartError(`P must be a port number (1-65535), got "${value}"`),
    );
  });

  it('up() stops on a bad port before installing or starting anything', async () => {
    process.env.MLOPS_MLFLOW_PORT = '50o0';
    await expect(up()).rejects.toThrow(/MLOPS_MLFLOW_PORT must be a port number \(1-65535\), got "50o0"/);
  });

  it('mlops local up (npm run local:up) says which variable is wrong, in one line and without a stack', async () => {
    process.env.MLOPS_AWS_PORT = 'http';
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });

    const code = await runCli(['node', 'mlops', 'local', 'up']);

    expect(code).toBe(1);
    expect(stderr.join('')).toBe('mlops: MLOPS_AWS_PORT must be a port number (1-65535), got "http"\n');
  }, 30_000);
});
