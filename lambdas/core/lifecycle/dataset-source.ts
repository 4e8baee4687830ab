/**
 * What a training run can be given as its data: a bundled dataset's name, a file path, or a frame
 * already validated against its contract (e.g. by the data pipeline).
 */
import { type DataContract, type DataInput, type Frame, resolveDataset } from '../data';
import { TrainingRequestError } from './errors';

export type DatasetSource =
  /** A bundled dataset (`iris`, `seattle-weather`) or a CSV / JSON / JSON Lines / Parquet file. */
  | string
  | {
      readonly frame: Frame;
      readonly contract: DataContract;
      readonly name: string;
      /** Where the frame came from, for the run's dataset input. @default `frame:<name>` */
      readonly source?: string;
    };

export type ResolvedTrainingDataset =
  | {
      readonly kind: 'file';
      readonly name: string;
      readonly source: string;
      readonly input: DataInput;
      readonly contract: DataContract;
    }
  | {
      readonly kind: 'frame';
      readonly name: string;
      readonly source: string;
      readonly frame: Frame;
      readonly contract: DataContract;
    };

export async function resolveTrainingDataset(
  dataset: DatasetSource,
  contractOverride?: DataContract,
): Promise<ResolvedTrainingDataset> {
  if (typeof dataset !== 'string') {
    return {
      kind: 'frame',
      name: dataset.name,
      source: dataset.source ?? `frame:${dataset.name}`,
      frame: dataset.frame,
      contract: contractOverride ?? dataset.contract,
    };
  }
  if (dataset.trim() === '')
    throw new TrainingRequestError('dataset', 'is required: a bundled dataset name or a data file');
  const resolved = await resolveDataset(dataset, contractOverride ? { contract: contractOverride } : {});
  const { contract } = resolved;
  if (!contract) {
    throw new TrainingRequestError(
      'contract',
      `${dataset} has no data contract beside it (input_schema.json); give one with --contract`,
    );
  }
  return { kind: 'file', name: resolved.name, source: resolved.source, input: resolved.input, contract };
}
