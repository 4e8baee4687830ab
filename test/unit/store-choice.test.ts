/**
 * The one rule for the local MLflow's backend store (`mlops local up`, `npm run demo`, `mlops run`):
 * the running store is kept, an explicit --store switches it and says what that does.
 */
import { describe, expect, it } from 'vitest';
import { CliError } from '../../bin/cli/output';
import { chooseBackendStore } from '../../bin/cli/store-choice';

const installed = () => true;
const absent = () => false;

describe('chooseBackendStore', () => {
  it('keeps the store MLflow runs on when none is asked for, whatever is installed', () => {
    expect(chooseBackendStore(undefined, 'sqlite', installed)).toEqual({ store: 'sqlite' });
    expect(chooseBackendStore(undefined, 'postgres', absent)).toEqual({ store: 'postgres' });
  });

  it('starts on Postgres where it is installed, else on SQLite with a note', () => {
    expect(chooseBackendStore(undefined, undefined, installed)).toEqual({ store: 'postgres' });
    const fallback = chooseBackendStore(undefined, undefined, absent);
    expect(fallback.store).toBe('sqlite');
    expect(fallback.note).toMatch(/^PostgreSQL is not installed: MLflow runs on SQLite/);
  });

  it('switches only on an explicit --store, saying that MLflow restarts and what it stops showing', () => {
    expect(chooseBackendStore('postgres', 'postgres', installed)).toEqual({ store: 'postgres' });
    expect(chooseBackendStore('sqlite', undefined, installed)).toEqual({ store: 'sqlite' });
    expect(chooseBackendStore('postgres', 'sqlite', installed)).toEqual({
      store: 'postgres',
      note: 'switching MLflow from its sqlite store to postgres: it restarts, and the experiments, runs and models logged on sqlite (and links to them) are not shown until you switch back with --store sqlite',
    });
  });

  it('names the option on an unknown store', () => {
    expect(() => chooseBackendStore('mysql', undefined, installed)).toThrow(
      new CliError('--store must be postgres or sqlite, got "mysql"', 2),
    );
  });
});
