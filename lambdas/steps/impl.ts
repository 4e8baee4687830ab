/**
 * Where each pipeline step meets the ML core (lambdas/core/*). The core is being written
 * alongside; until a step is wired to it, the step fails with a StepNotWiredError naming it, so a
 * run stops at the first unwired step with a clear cause instead of producing made-up output.
 */
import type {
  CollectSageMakerResultsInput,
  CollectSageMakerResultsOutput,
  ComparePredictionsInput,
  ComparePredictionsOutput,
  ComputeDriftInput,
  ComputeDriftOutput,
  EvaluateCandidateInput,
  EvaluateCandidateOutput,
  IngestDataInput,
  IngestDataOutput,
  LogCandidateRunInput,
  LogCandidateRunOutput,
  PlanInferenceInput,
  PlanInferenceOutput,
  PlanTrainingInput,
  PlanTrainingOutput,
  PredictBatchInput,
  PredictBatchOutput,
  PromoteModelInput,
  PromoteModelOutput,
  PublishDatasetInput,
  PublishDatasetOutput,
  QuarantineRowsInput,
  QuarantineRowsOutput,
  RegisterModelInput,
  RegisterModelOutput,
  SageMakerTrainerHyperparameters,
  SelectBestInput,
  SelectBestOutput,
  SendDriftAlertInput,
  SendDriftAlertOutput,
  SplitDatasetInput,
  SplitDatasetOutput,
  TrainCandidateInput,
  TrainCandidateOutput,
  ValidateDataInput,
  ValidateDataOutput,
} from './contracts';

/**
 * A failure worth retrying: MLflow unreachable or answering 5xx, S3 throttling. The state machines
 * retry errors of this name (3 attempts, exponential backoff with jitter) before catching them.
 */
export class TransientStepError extends Error {
  override name = 'TransientStepError';
}

export class StepNotWiredError extends Error {
  override name = 'StepNotWiredError';

  constructor(readonly step: string) {
    super(`pipeline step '${step}' is not wired to the ML core yet`);
  }
}

/** Reads the landing prefix (or a bundled dataset) into one normalised CSV. */
export async function ingestData(_input: IngestDataInput): Promise<IngestDataOutput> {
  throw new StepNotWiredError('ingest-data');
}

/** Checks every row against the data contract; splits valid from rejected rows. */
export async function validateData(_input: ValidateDataInput): Promise<ValidateDataOutput> {
  throw new StepNotWiredError('validate-data');
}

/** Writes the rejected rows, with their reasons, to the quarantine bucket. */
export async function quarantineRows(_input: QuarantineRowsInput): Promise<QuarantineRowsOutput> {
  throw new StepNotWiredError('quarantine-rows');
}

/** Splits the valid rows into train, test and reference sets. */
export async function splitDataset(_input: SplitDatasetInput): Promise<SplitDatasetOutput> {
  throw new StepNotWiredError('split-dataset');
}

/** Writes the curated dataset version (content digest) and its manifest. */
export async function publishDataset(_input: PublishDatasetInput): Promise<PublishDatasetOutput> {
  throw new StepNotWiredError('publish-dataset');
}

/** Resolves the dataset version and the candidate grid of a training run. */
export async function planTraining(_input: PlanTrainingInput): Promise<PlanTrainingOutput> {
  throw new StepNotWiredError('plan-training');
}

/** Trains one candidate and exports it as an MLflow onnx-flavor model directory. */
export async function trainCandidate(_input: TrainCandidateInput): Promise<TrainCandidateOutput> {
  throw new StepNotWiredError('train-candidate');
}

/** Scores one trained candidate on the holdout. */
export async function evaluateCandidate(_input: EvaluateCandidateInput): Promise<EvaluateCandidateOutput> {
  throw new StepNotWiredError('evaluate-candidate');
}

/** Logs a candidate's params, metrics and model to MLflow. */
export async function logCandidateRun(_input: LogCandidateRunInput): Promise<LogCandidateRunOutput> {
  throw new StepNotWiredError('log-candidate-run');
}

/** Reads the candidate results the SageMaker trainer wrote. */
export async function collectSageMakerResults(
  _input: CollectSageMakerResultsInput,
): Promise<CollectSageMakerResultsOutput> {
  throw new StepNotWiredError('collect-sagemaker-results');
}

/** Ranks the succeeded candidates by the selection metric. */
export async function selectBest(_input: SelectBestInput): Promise<SelectBestOutput> {
  throw new StepNotWiredError('select-best');
}

/** Registers the best candidate's model as a new version. */
export async function registerModel(_input: RegisterModelInput): Promise<RegisterModelOutput> {
  throw new StepNotWiredError('register-model');
}

/** Sets Challenger, or Production when the new version beats it on the same holdout. */
export async function promoteModel(_input: PromoteModelInput): Promise<PromoteModelOutput> {
  throw new StepNotWiredError('promote-model');
}

/** Finds the newest input batch and pins the Production and Challenger versions. */
export async function planInference(_input: PlanInferenceInput): Promise<PlanInferenceOutput> {
  throw new StepNotWiredError('plan-inference');
}

/** Scores one input object with Production, and Challenger in shadow. */
export async function predictBatch(_input: PredictBatchInput): Promise<PredictBatchOutput> {
  throw new StepNotWiredError('predict-batch');
}

/** Compares Production and Challenger predictions; logs the comparison to MLflow. */
export async function comparePredictions(_input: ComparePredictionsInput): Promise<ComparePredictionsOutput> {
  throw new StepNotWiredError('compare-predictions');
}

/** Measures drift of the newest data and predictions against the reference set. */
export async function computeDrift(_input: ComputeDriftInput): Promise<ComputeDriftOutput> {
  throw new StepNotWiredError('compute-drift');
}

/** E-mails a drift breach or recovery once per episode (SES). */
export async function sendDriftAlert(_input: SendDriftAlertInput): Promise<SendDriftAlertOutput> {
  throw new StepNotWiredError('send-drift-alert');
}

/**
 * The SageMaker branch: trains every candidate of the plan with the same core code as the Lambda
 * branch, logs each to MLflow and writes `CandidateResult[]` to the plan's `sageMakerResults`.
 */
export async function trainPlanInContainer(_hyperparameters: SageMakerTrainerHyperparameters): Promise<void> {
  throw new StepNotWiredError('sagemaker-trainer');
}
