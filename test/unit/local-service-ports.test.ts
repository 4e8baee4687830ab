import { afterEach, describe, expect, it } from 'vitest';
import { portFromEnv } from '../../localstack/services/port-setting';
import { ServiceStartError, up } from '../../localstack/services/services';

describe('local service ports', () => {
  const saved = process.env.MLOPS_MLFLOW_PORT;
  afterEach(() => {
    if (saved === undefined) delete process.env.MLOPS_MLFLOW_PORT;
    else process.env.MLOPS_MLFLOW_PORT = saved;
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
});
