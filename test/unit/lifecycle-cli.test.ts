import { describe, expect, it } from 'vitest';
import { CliError } from '../../bin/cli/output';
import { asCliError, parseTrainOptions, renderSummary } from '../../bin/cli/train-command';
import { DataError } from '../../lambdas/core/data';
import {
  DatasetRejectedError,
  NoCandidateSucceededError,
  TrainingRequestError,
  type TrainResult,
} from '../../lambdas/core/lifecycle';
import { MlflowConfigError, MlflowUnavailableError } from '../../lambdas/core/mlflow';

describe('parseTrainOptions', () => {
  it('turns the flags into typed options', () => {
    const options = parseTrainOptions({
      dataset: ' iris ',
      seed: '7',
      metric: 'accuracy',
      promote: 'production',
      testFraction: '0.25',
      maxQuarantinedShare: '0',
      json: true,
    });
    expect(options).toMatchObject({
      dataset: 'iris',
      seed: 7,
      metric: 'accuracy',
      promote: 'production',
      testFraction: 0.25,
      maxQuarantinedShare: 0,
      json: true,
    });
  });

  it('shares the vocabulary of mlops run train: --model, promotion none by default, the experiment after the model', () => {
    const options = parseTrainOptions({ dataset: 'iris', model: 'flowers' }, {});
    expect(options).toMatchObject({ modelName: 'flowers', promote: 'none' });
    // No experiment: the lifecycle names it after the model, as the pipeline does without MLFLOW_EXPERIMENT_NAME.
    expect(options.experiment).toBeUndefined();
    expect(parseTrainOptions({ dataset: 'iris' }, { MLFLOW_EXPERIMENT_NAME: 'team-exp' }).experiment).toBe(
      'team-exp',
    );
    expect(
      parseTrainOptions({ dataset: 'iris', experiment: 'mine' }, { MLFLOW_EXPERIMENT_NAME: 'team-exp' })
        .experiment,
    ).toBe('mine');
    expect(parseTrainOptions({ dataset: 'iris', modelName: 'old-spelling' }, {}).modelName).toBe(
      'old-spelling',
    );
  });

  it('reads the earlier word production-if-better as production', () => {
    expect(parseTrainOptions({ dataset: 'iris', promote: 'production-if-better' }).promote).toBe(
      'production',
    );
  });

  it.each([
    [{ dataset: '' }, '--dataset is required: a bundled dataset name or a data file'],
    [{ dataset: 'iris', seed: '1.5' }, '--seed must be a whole number from 0 to 4294967295, got "1.5"'],
    [{ dataset: 'iris', seed: '-3' }, '--seed must be a whole number from 0 to 4294967295, got "-3"'],
    [
      { dataset: 'iris', seed: '4294967296' },
      '--seed must be a whole number from 0 to 4294967295, got "4294967296"',
    ],
    [
      { dataset: 'iris', promote: 'always' },
      '--promote must be one of none, challenger, production, got "always"',
    ],
    [
      { dataset: 'iris', metric: 'auc' },
      '--metric must be one of accuracy, f1_macro, log_loss, roc_auc, rmse, mae, r2, got "auc"',
    ],
    [
      { dataset: 'iris', testFraction: '1' },
      '--test-fraction must be a number between 0 and 1 (exclusive), got "1"',
    ],
    [
      { dataset: 'iris', maxQuarantinedShare: 'lots' },
      '--max-quarantined-share must be a number from 0 to 1, got "lots"',
    ],
    [{ dataset: 'iris', modelName: '  ' }, '--model-name cannot be empty'],
    [{ dataset: 'iris', model: '' }, '--model cannot be empty'],
    [
      { dataset: 'iris', model: 'a', modelName: 'b' },
      '--model and --model-name are the same option: give --model once',
    ],
    [{ dataset: 'iris', split: 'kfold' }, '--split must be random or time, got "kfold"'],
  ])('rejects %j with exit code 2', (raw, message) => {
    let error: unknown;
    try {
      parseTrainOptions(raw);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ message, exitCode: 2 });
  });
});

describe('asCliError', () => {
  it('maps bad input to exit 2 and failures of the work to exit 1, naming the CLI option', () => {
    expect(
      asCliError(new TrainingRequestError('metric', "'rmse' is not a classification metric")),
    ).toMatchObject({
      message: "--metric: 'rmse' is not a classification metric",
      exitCode: 2,
    });
    expect(
      asCliError(new MlflowConfigError('MLFLOW_TRACKING_URI', 'is required: the MLflow tracking server URL')),
    ).toMatchObject({
      exitCode: 2,
      message: 'MLFLOW_TRACKING_URI is required: the MLflow tracking server URL',
    });
    const rejected = new DatasetRejectedError('NO_VALID_ROWS', 'dataset d rejected', {
      dataset: 'd',
      rows: 1,
      rejected: 1,
      examples: [],
    });
    expect(asCliError(rejected)).toMatchObject({ exitCode: 2, message: 'dataset d rejected' });
    expect(asCliError(new DataError('UNKNOWN_DATASET', 'unknown dataset "x"'))).toMatchObject({
      exitCode: 2,
    });
    expect(asCliError(new NoCandidateSucceededError([{ candidate: 'a', error: 'boom' }]))).toMatchObject({
      exitCode: 1,
      message: 'all 1 candidates failed: a: boom',
    });
    expect(asCliError(new MlflowUnavailableError('GET /x', 3, 503))).toMatchObject({ exitCode: 1 });
    const unexpected = new RangeError('bug');
    expect(asCliError(unexpected)).toBe(unexpected);
  });
});

describe('renderSummary', () => {
  it('shows one row per candidate with the selected one starred, then the registration', () => {
    const result: TrainResult = {
      model: 'iris-classifier',
      version: '3',
      run_id: 'r1',
      metric: { name: 'f1_macro', value: 0.9666 },
      best: 'logreg',
      candidates: [
        {
          name: 'logreg',
          family: 'logistic_regression',
          status: 'succeeded',
          run_id: 'r1',
          metrics: { accuracy: 0.9667, f1_macro: 0.9666 },
          training_seconds: 0.05,
        },
        {
          name: 'forest',
          family: 'random_forest',
          status: 'failed',
          run_id: 'r2',
          metrics: {},
          training_seconds: null,
          error: 'Error: boom',
        },
      ],
      dataset: {
        name: 'iris',
        version: 'sha256-0123456789abcdef',
        digest: '0123456789abcdef',
        rows: 150,
        quarantined: 0,
        train_rows: 120,
        test_rows: 30,
        split: 'random',
        rejections: [],
        quarantine: null,
      },
      promotion: null,
    };

    const lines = renderSummary(result).split('\n');

    expect(lines[0]).toMatch(/^ {2}candidate\s+family\s+f1_macro\s+accuracy\s+train s\s+run$/);
    expect(lines[2]).toMatch(/^\* logreg\s+logistic_regression\s+0\.9666\s+0\.9667\s+0\.05\s+r1$/);
    expect(lines[3]).toMatch(/^ {2}forest\s+random_forest\s+failed\s+failed\s+r2$/);
    expect(lines).toContain('registered iris-classifier version 3 from run r1 (logreg, f1_macro 0.9666)');
  });
});
