import { describe, expect, it } from 'vitest';
import {
  type AlertEpisodeState,
  type AlertSender,
  alertOnDrift,
  composeDriftEmail,
  decideAlert,
  type EmailContent,
  type EpisodeStore,
  NO_EPISODE,
} from '../../lambdas/core/monitoring';

class MemoryStore implements EpisodeStore {
  states = new Map<string, AlertEpisodeState>();
  async load(key: string) {
    return this.states.get(key) ?? NO_EPISODE;
  }
  async save(key: string, state: AlertEpisodeState) {
    this.states.set(key, state);
  }
}

class RecordingSender implements AlertSender {
  sent: EmailContent[] = [];
  failNext = false;
  async send(email: EmailContent) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('SES is down');
    }
    this.sent.push(email);
    return `msg-${this.sent.length}`;
  }
}

const run = (drifted: boolean, value: number, timestamp: string) => ({
  drifted,
  value,
  timestamp,
  metric: 'share_drifted',
  threshold: 0.2,
  modelName: 'iris-classifier',
  modelVersion: '3',
});

describe('decideAlert', () => {
  it('alerts on the first breach, stays quiet while it lasts, and reports the recovery once', () => {
    expect(decideAlert(NO_EPISODE, true)).toBe('breach');
    expect(decideAlert({ inBreach: true, alertsSent: 1 }, true)).toBe('none');
    expect(decideAlert({ inBreach: true, alertsSent: 1 }, false)).toBe('recovery');
    expect(decideAlert(NO_EPISODE, false)).toBe('none');
  });
});

describe('alertOnDrift', () => {
  it('sends one e-mail per breach episode and one on recovery', async () => {
    const store = new MemoryStore();
    const sender = new RecordingSender();

    const first = await alertOnDrift(run(true, 0.4, '2026-11-23T02:30:00Z'), { store, sender });
    const second = await alertOnDrift(run(true, 0.5, '2026-11-24T02:30:00Z'), { store, sender });
    const recovered = await alertOnDrift(run(false, 0.1, '2026-11-25T02:30:00Z'), { store, sender });

    expect([first.decision, second.decision, recovered.decision]).toEqual(['breach', 'none', 'recovery']);
    expect(sender.sent.map((e) => e.subject)).toEqual([
      '[drift] iris-classifier v3: share_drifted 0.4000 is over 0.2000',
      '[recovered] iris-classifier v3: share_drifted 0.1000 is back under 0.2000',
    ]);
    expect(second.episodeSince).toBe('2026-11-23T02:30:00Z');
  });

  it('keeps the episode closed when the send fails, so the next run alerts again', async () => {
    const store = new MemoryStore();
    const sender = new RecordingSender();
    sender.failNext = true;

    await expect(alertOnDrift(run(true, 0.4, '2026-11-23T02:30:00Z'), { store, sender })).rejects.toThrow(
      'SES is down',
    );
    expect((await store.load('iris-classifier')).inBreach).toBe(false);

    const retried = await alertOnDrift(run(true, 0.4, '2026-11-23T03:30:00Z'), { store, sender });
    expect(retried.decision).toBe('breach');
    expect(sender.sent).toHaveLength(1);
  });
});

describe('composeDriftEmail', () => {
  it('carries the time, metric, value, threshold, model and report link in text and HTML', () => {
    const email = composeDriftEmail({
      ...run(true, 0.4, '2026-11-23T02:30:00Z'),
      kind: 'breach',
      reportUrl: 'http://127.0.0.1:5000/#/experiments/1/runs/abc',
      driftedColumns: ['petal_length', 'petal_width'],
    });
    for (const body of [email.text, email.html]) {
      expect(body).toContain('2026-11-23T02:30:00Z');
      expect(body).toContain('0.4000');
      expect(body).toContain('0.2000');
      expect(body).toContain('iris-classifier v3');
      expect(body).toContain('http://127.0.0.1:5000/#/experiments/1/runs/abc');
      expect(body).toContain('petal_length, petal_width');
    }
  });

  it('escapes markup in names', () => {
    const email = composeDriftEmail({
      ...run(true, 0.4, 't'),
      kind: 'breach',
      modelName: '<script>x</script>',
    });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&#60;script&#62;');
  });
});
