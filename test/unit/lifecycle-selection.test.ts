import { describe, expect, it } from 'vitest';
import {
  type CandidateResult,
  decidePromotion,
  NoCandidateSucceededError,
  rankCandidateResults,
  resolveSelectionMetric,
  TrainingRequestError,
} from '../../lambdas/core/lifecycle';

function succeeded(name: string, metrics: Record<string, number>): CandidateResult {
  return {
    status: 'succeeded',
    name,
    family: 'random_forest',
    runId: `run-${name}`,
    modelUri: `mlflow-artifacts:/1/run-${name}/artifacts/model`,
    metrics,
    trainingSeconds: 0.1,
  };
}

const f1 = resolveSelectionMetric('classification');
const rmse = resolveSelectionMetric('regression');

describe('selection metric', () => {
  it('defaults to macro F1 for classification and RMSE for regression', () => {
    expect(f1).toEqual({ name: 'f1_macro', higherIsBetter: true });
    expect(rmse).toEqual({ name: 'rmse', higherIsBetter: false });
  });

  it('rejects a metric of the other task, naming the allowed ones', () => {
    expect(() => resolveSelectionMetric('classification', 'rmse')).toThrow(TrainingRequestError);
    expect(() => resolveSelectionMetric('classification', 'rmse')).toThrow(
      "metric: 'rmse' is not a classification metric; use one of f1_macro, accuracy, log_loss, roc_auc",
    );
    expect(() => resolveSelectionMetric('regression', 'r-squared')).toThrow(
      "'r-squared' is not a regression metric",
    );
  });
});

describe('rankCandidateResults', () => {
  it('picks the highest macro F1 and ranks everyone best first', () => {
    const ranking = rankCandidateResults(
      [
        succeeded('a', { f1_macro: 0.91 }),
        succeeded('b', { f1_macro: 0.97 }),
        succeeded('c', { f1_macro: 0.93 }),
      ],
      f1,
    );
    expect(ranking.best.name).toBe('b');
    expect(ranking.ranking).toEqual([
      { name: 'b', value: 0.97 },
      { name: 'c', value: 0.93 },
      { name: 'a', value: 0.91 },
    ]);
  });

  it('picks the lowest RMSE for regression', () => {
    const ranking = rankCandidateResults(
      [succeeded('ridge', { rmse: 2.5 }), succeeded('gbm', { rmse: 1.75 })],
      rmse,
    );
    expect(ranking.best.name).toBe('gbm');
  });

  it('breaks a tie on macro F1 by accuracy, then by the given order', () => {
    const tiedOnAll = rankCandidateResults(
      [
        succeeded('first', { f1_macro: 0.9, accuracy: 0.9 }),
        succeeded('second', { f1_macro: 0.9, accuracy: 0.9 }),
      ],
      f1,
    );
    expect(tiedOnAll.best.name).toBe('first');
    const brokenByAccuracy = rankCandidateResults(
      [
        succeeded('first', { f1_macro: 0.9, accuracy: 0.9 }),
        succeeded('second', { f1_macro: 0.9, accuracy: 0.92 }),
      ],
      f1,
    );
    expect(brokenByAccuracy.best.name).toBe('second');
  });

  it('ranks a candidate without the metric (or with NaN) last', () => {
    const ranking = rankCandidateResults(
      [succeeded('nan', { f1_macro: Number.NaN }), succeeded('none', {}), succeeded('ok', { f1_macro: 0.5 })],
      f1,
    );
    expect(ranking.best.name).toBe('ok');
    expect(ranking.ranking.map((entry) => entry.name)).toEqual(['ok', 'nan', 'none']);
  });

  it('leaves failed candidates out of the ranking and reports them', () => {
    const ranking = rankCandidateResults(
      [
        { status: 'failed', name: 'broken', family: 'ridge', error: 'TrainingDataError: no rows' },
        succeeded('fine', { f1_macro: 0.8 }),
      ],
      f1,
    );
    expect(ranking.best.name).toBe('fine');
    expect(ranking.ranking).toHaveLength(1);
    expect(ranking.failed.map((failure) => failure.name)).toEqual(['broken']);
  });

  it('fails with every reason when no candidate succeeded', () => {
    const act = () =>
      rankCandidateResults(
        [
          { status: 'failed', name: 'a', family: 'ridge', error: 'Error: one' },
          { status: 'failed', name: 'b', family: 'ridge', error: 'Error: two' },
        ],
        f1,
      );
    expect(act).toThrow(NoCandidateSucceededError);
    expect(act).toThrow('all 2 candidates failed: a: Error: one; b: Error: two');
  });
});

describe('decidePromotion', () => {
  it('sets no alias in mode none', () => {
    const decision = decidePromotion({
      mode: 'none',
      metric: f1,
      candidateScore: null,
      production: { kind: 'none' },
    });
    expect(decision.alias).toBeNull();
    expect(decision.promotedToProduction).toBe(false);
  });

  it('sets Challenger in mode challenger, whatever Production scores', () => {
    const decision = decidePromotion({
      mode: 'challenger',
      metric: f1,
      candidateScore: 0.99,
      production: { kind: 'scored', version: '3', score: 0.5 },
    });
    expect(decision.alias).toBe('Challenger');
    expect(decision.promotedToProduction).toBe(false);
  });

  it('promotes to Production when there is none yet', () => {
    const decision = decidePromotion({
      mode: 'production',
      metric: f1,
      candidateScore: 0.9,
      production: { kind: 'none' },
    });
    expect(decision).toMatchObject({
      alias: 'Production',
      promotedToProduction: true,
      productionVersion: null,
    });
    expect(decision.reason).toBe('no Production version yet (f1_macro 0.9)');
  });

  it('promotes when strictly better on the metric, in the metric direction', () => {
    const better = decidePromotion({
      mode: 'production',
      metric: rmse,
      candidateScore: 1.2,
      production: { kind: 'scored', version: '4', score: 1.5 },
    });
    expect(better).toMatchObject({
      alias: 'Production',
      promotedToProduction: true,
      productionVersion: '4',
      productionScore: 1.5,
      candidateScore: 1.2,
    });
    expect(better.reason).toBe('beats Production: rmse 1.2 vs 1.5 for Production v4');
  });

  it('keeps Production on a tie or a worse score and makes the new version Challenger', () => {
    for (const candidateScore of [0.9, 0.85]) {
      const decision = decidePromotion({
        mode: 'production',
        metric: f1,
        candidateScore,
        production: { kind: 'scored', version: '2', score: 0.9 },
      });
      expect(decision.alias).toBe('Challenger');
      expect(decision.promotedToProduction).toBe(false);
      expect(decision.reason).toContain('does not beat Production');
    }
  });

  it("still takes the earlier word production-if-better, deciding and reporting as 'production'", () => {
    const decision = decidePromotion({
      mode: 'production-if-better',
      metric: f1,
      candidateScore: 0.95,
      production: { kind: 'scored', version: '2', score: 0.9 },
    });
    expect(decision).toMatchObject({ mode: 'production', alias: 'Production', promotedToProduction: true });
  });

  it('keeps a Production version it cannot score, saying why', () => {
    const decision = decidePromotion({
      mode: 'production',
      metric: f1,
      candidateScore: 0.99,
      production: { kind: 'unscorable', version: '7', problem: "the holdout has no column 'petal_area'" },
    });
    expect(decision.alias).toBe('Challenger');
    expect(decision.reason).toBe(
      "Production v7 could not be scored on this holdout (the holdout has no column 'petal_area'); kept it",
    );
  });
});
