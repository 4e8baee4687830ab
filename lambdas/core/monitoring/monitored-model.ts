/**
 * What the registry tells a monitoring run about the model it watches, when the request leaves
 * it out:
 *
 * - the version: the one the `Production` alias points at (what the predict API serves);
 * - the reference data: the model version's tag `mlops.reference_uri` (`s3://bucket/key`, a
 *   `file://` URI or a path), set by whoever registers the version with the reference split it
 *   was trained beside;
 * - the data contract: `data_contract/input_schema.json` in the model's artifacts.
 */
import { type DataContract, DataError, parseContractJson } from '../data';
import { MlflowError, type ModelVersion, orUndefinedIfMissing } from '../mlflow';
import { PRODUCTION_ALIAS } from '../settings';
import { MonitoringRequestError } from './monitoring-errors';
import type { MonitoringTracking } from './monitoring-tracking';

/** The alias whose version is monitored by default (the one the predict API serves). */
export const SERVED_ALIAS = PRODUCTION_ALIAS;
/** The model-version tag holding the URI of the reference data drift is measured against. */
export const REFERENCE_URI_TAG = 'mlops.reference_uri';
/** Where a model directory keeps its data contract. */
export const MODEL_CONTRACT_PATH = 'data_contract/input_schema.json';

export interface MonitoredModelRequest {
  readonly modelName: string;
  readonly modelVersion?: string;
  /** The request has no reference data: it must come from the version's tag. */
  readonly needReference: boolean;
  /** The request has no contract: read the model's own, if it has one. */
  readonly needContract: boolean;
}

export interface MonitoredModel {
  readonly version: string | null;
  readonly referenceUri: string | null;
  readonly contract: DataContract | null;
  readonly notes: readonly string[];
}

async function modelContract(
  tracking: MonitoringTracking,
  version: ModelVersion,
): Promise<{ contract: DataContract | null; note?: string }> {
  const label = `${version.name} v${version.version}`;
  try {
    const uri = await tracking.getModelVersionDownloadUri(version.name, version.version);
    const text = new TextDecoder().decode(await tracking.readArtifact(uri, MODEL_CONTRACT_PATH));
    return { contract: parseContractJson(text, `${label}/${MODEL_CONTRACT_PATH}`) };
  } catch (error) {
    // A model logged without a contract (a Python user's) is still monitored, with types inferred.
    if (error instanceof MlflowError || error instanceof DataError) {
      return {
        contract: null,
        note: `${label} has no readable ${MODEL_CONTRACT_PATH} (${error.message}): column types were inferred`,
      };
    }
    throw error;
  }
}

export async function resolveMonitoredModel(
  tracking: MonitoringTracking,
  request: MonitoredModelRequest,
): Promise<MonitoredModel> {
  const { modelName } = request;
  const notes: string[] = [];
  let version: ModelVersion | undefined;
  if (request.modelVersion === undefined) {
    version = await orUndefinedIfMissing(tracking.getModelVersionByAlias(modelName, SERVED_ALIAS));
    if (!version) {
      notes.push(`model ${modelName} has no ${SERVED_ALIAS} alias: the run is not tied to a version`);
    }
  } else if (request.needReference || request.needContract) {
    version = await orUndefinedIfMissing(tracking.getModelVersion(modelName, request.modelVersion));
    if (!version) notes.push(`model ${modelName} has no version ${request.modelVersion} in the registry`);
  }

  let referenceUri: string | null = null;
  if (request.needReference) {
    const tag = version?.tags.find((t) => t.key === REFERENCE_URI_TAG)?.value.trim();
    if (!version || !tag) {
      const which = version
        ? `version ${version.version} of ${modelName} has no "${REFERENCE_URI_TAG}" tag`
        : (notes[notes.length - 1] ?? `model ${modelName} has no version to read it from`);
      throw new MonitoringRequestError('reference', `no reference data was given, and ${which}`);
    }
    referenceUri = tag;
  }

  let contract: DataContract | null = null;
  if (request.needContract && version) {
    const found = await modelContract(tracking, version);
    contract = found.contract;
    if (found.note) notes.push(found.note);
  }
  return { version: version?.version ?? request.modelVersion ?? null, referenceUri, contract, notes };
}
