/**
 * Every pipeline step in one module, for runs in this process: the local runner binds each Task
 * of the ASL files to these (localstack/pipelines.ts), and tests call them. A step runs with the
 * context it is given, else the one of this process's environment, its outages mapped to
 * TransientStepError as in the Lambdas.
 *
 * Neither the Lambda handlers beside this file nor the SageMaker trainer import it: this module
 * reaches every step's dependencies, and a bundle should hold its own step's only (see
 * impl/step-handler.ts).
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

import { collectSageMakerResults as collectResults } from './impl/collect-sagemaker-results';
import { comparePredictions as compare } from './impl/compare-predictions';
import { type ComputeDriftDeps, computeDrift as drift } from './impl/compute-drift';
import { evaluateCandidate as evaluate } from './impl/evaluate-candidate';
import { ingestData as ingest } from './impl/ingest-data';
import { logCandidateRun as logRun } from './impl/log-candidate-run';
import { planInference as planInf } from './impl/plan-inference';
import { planTraining as plan } from './impl/plan-training';
import { predictBatch as predict } from './impl/predict-batch';
import { promoteModel as promote } from './impl/promote-model';
import { publishDataset as publish } from './impl/publish-dataset';
import { quarantineRows as quarantine } from './impl/quarantine-rows';
import { registerModel as register } from './impl/register-model';
import { selectBest as select } from './impl/select-best';
import { sendDriftAlert as alert } from './impl/send-drift-alert';
import { splitDataset as split } from './impl/split-dataset';
import { defaultStepContext, type StepContext } from './impl/step-context';
import { step } from './impl/step-errors';
import { trainCandidate as train } from './impl/train-candidate';
import { validateData as validate } from './impl/validate-data';

export { createStepContext, type StepContext } from './impl/step-context';
export { StepConfigError, StepInputError, TransientStepError } from './impl/step-errors';

/** Reads the landing prefix (or a bundled dataset) into one normalised CSV. */
export async function ingestData(
  input: IngestDataInput,
  context: StepContext = defaultStepContext(),
): Promise<IngestDataOutput> {
  return step(() => ingest(input, context));
}

/** Checks every row against the data contract; splits valid from rejected rows. */
export async function validateData(
  input: ValidateDataInput,
  context: StepContext = defaultStepContext(),
): Promise<ValidateDataOutput> {
  return step(() => validate(input, context));
}

/** Writes the rejected rows, with their reasons, to the quarantine bucket. */
export async function quarantineRows(
  input: QuarantineRowsInput,
  context: StepContext = defaultStepContext(),
): Promise<QuarantineRowsOutput> {
  return step(() => quarantine(input, context));
}

/** Splits the valid rows into train, test and reference sets. */
export async function splitDataset(
  input: SplitDatasetInput,
  context: StepContext = defaultStepContext(),
): Promise<SplitDatasetOutput> {
  return step(() => split(input, context));
}

/** Writes the curated dataset version (content digest) and its manifest. */
export async function publishDataset(
  input: PublishDatasetInput,
  context: StepContext = defaultStepContext(),
): Promise<PublishDatasetOutput> {
  return step(() => publish(input, context));
}

/** Resolves the dataset version and the candidate grid of a training run. */
export async function planTraining(
  input: PlanTrainingInput,
  context: StepContext = defaultStepContext(),
): Promise<PlanTrainingOutput> {
  return step(() => plan(input, context));
}

/** Trains one candidate and exports it as an MLflow onnx-flavor model directory. */
export async function trainCandidate(
  input: TrainCandidateInput,
  context: StepContext = defaultStepContext(),
): Promise<TrainCandidateOutput> {
  return step(() => train(input, context));
}

/** Scores one trained candidate on the holdout. */
export async function evaluateCandidate(
  input: EvaluateCandidateInput,
  context: StepContext = defaultStepContext(),
): Promise<EvaluateCandidateOutput> {
  return step(() => evaluate(input, context));
}

/** Logs a candidate's params, metrics and model to MLflow. */
export async function logCandidateRun(
  input: LogCandidateRunInput,
  context: StepContext = defaultStepContext(),
): Promise<LogCandidateRunOutput> {
  return step(() => logRun(input, context));
}

/** Reads the candidate results the SageMaker trainer wrote. */
export async function collectSageMakerResults(
  input: CollectSageMakerResultsInput,
  context: StepContext = defaultStepContext(),
): Promise<CollectSageMakerResultsOutput> {
  return step(() => collectResults(input, context));
}

/** Ranks the succeeded candidates by the selection metric. */
export async function selectBest(input: SelectBestInput): Promise<SelectBestOutput> {
  return step(async () => select(input));
}

/** Registers the best candidate's model as a new version. */
export async function registerModel(
  input: RegisterModelInput,
  context: StepContext = defaultStepContext(),
): Promise<RegisterModelOutput> {
  return step(() => register(input, context));
}

/** Sets Challenger, or Production when the new version beats it on the same holdout. */
export async function promoteModel(
  input: PromoteModelInput,
  context: StepContext = defaultStepContext(),
): Promise<PromoteModelOutput> {
  return step(() => promote(input, context));
}

/** Finds the newest input batch and pins the Production and Challenger versions. */
export async function planInference(
  input: PlanInferenceInput,
  context: StepContext = defaultStepContext(),
): Promise<PlanInferenceOutput> {
  return step(() => planInf(input, context));
}

/** Scores one input object with Production, and Challenger in shadow. */
export async function predictBatch(
  input: PredictBatchInput,
  context: StepContext = defaultStepContext(),
): Promise<PredictBatchOutput> {
  return step(() => predict(input, context));
}

/** Compares Production and Challenger predictions; logs the comparison to MLflow. */
export async function comparePredictions(
  input: ComparePredictionsInput,
  context: StepContext = defaultStepContext(),
): Promise<ComparePredictionsOutput> {
  return step(() => compare(input, context));
}

/** Measures drift of the newest data and predictions against the reference set. */
export async function computeDrift(
  input: ComputeDriftInput,
  context: StepContext = defaultStepContext(),
  deps: ComputeDriftDeps = {},
): Promise<ComputeDriftOutput> {
  return step(() => drift(input, context, deps));
}

/** E-mails a drift breach or recovery once per episode (SES). */
export async function sendDriftAlert(
  input: SendDriftAlertInput,
  context: StepContext = defaultStepContext(),
): Promise<SendDriftAlertOutput> {
  return step(() => alert(input, context));
}
