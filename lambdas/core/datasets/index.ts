/**
 * The datasets shipped with the project, and `resolveDataset`, which turns what a user typed
 * (`--dataset iris`, `--dataset data/batch.parquet`) into something to load and its contract.
 *
 * Bundled files live in this folder (one sub-folder per dataset: data, `input_schema.json`,
 * README with source and license) and are found relative to this module. A Lambda bundle must
 * ship the folder next to the bundled code, or pass `datasetsDir`.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTRACT_FILE, type DataContract, readContractFile } from '../data/contract';
import { DataError } from '../data/errors';
import type { Frame } from '../data/frame';
import { type DataFormat, type DataInput, dataFormatOf, loadAndValidate, loadFrame } from '../data/load';
import type { ValidationOptions, ValidationResult } from '../data/validation';

export interface BundledDataset {
  readonly name: string;
  readonly title: string;
  /** Relative to the datasets folder. */
  readonly dataFile: string;
  readonly contractFile: string;
  readonly rows: number;
  /** Where the data comes from, and the license it is under. */
  readonly origin: string;
  readonly license: string;
}

export const bundledDatasets: ReadonlyMap<string, BundledDataset> = new Map(
  [
    {
      name: 'iris',
      title: "Fisher's Iris flowers (classification of species)",
      dataFile: 'iris/iris.csv',
      contractFile: `iris/${CONTRACT_FILE}`,
      rows: 150,
      origin:
        "R. A. Fisher (1936) via UCI ML Repository; scikit-learn's copy (sklearn/datasets/data/iris.csv)",
      license: 'CC BY 4.0',
    },
    {
      name: 'seattle-weather',
      title: 'Seattle daily weather 2012-2015 (classification of weather, time-indexed)',
      dataFile: 'seattle-weather/seattle-weather.csv',
      contractFile: `seattle-weather/${CONTRACT_FILE}`,
      rows: 1461,
      origin:
        'NOAA National Climatic Data Center via the vega-datasets npm package (data/seattle-weather.csv)',
      license: 'U.S. Government work (public domain)',
    },
    {
      name: 'cars',
      title:
        'Cars 1970-1982, the Auto MPG data (regression of Miles_per_Gallon; a string category, missing values)',
      dataFile: 'cars/cars.json',
      contractFile: `cars/${CONTRACT_FILE}`,
      rows: 406,
      origin: 'StatLib Datasets Archive (CMU) via the vega-datasets npm package (data/cars.json)',
      license: 'distributed in 1982 for educational and scientific purposes (UCI copy: CC BY 4.0)',
    },
  ].map((dataset) => [dataset.name, dataset]),
);

/**
 * This module's folder: where the bundled datasets are, unless `datasetsDir` says otherwise.
 * Worked out on use, not at import: a CommonJS bundle has no `import.meta.url`, and importing the
 * data module must not fail there for want of a folder only bundled datasets need.
 */
export function defaultDatasetsDir(): string {
  if (!import.meta.url) {
    throw new DataError('UNKNOWN_DATASET', 'cannot locate the bundled datasets here: pass datasetsDir', {
      field: 'datasetsDir',
    });
  }
  return dirname(fileURLToPath(import.meta.url));
}

export interface ResolveDatasetOptions {
  /** Used instead of the dataset's own contract. */
  readonly contract?: DataContract;
  /** Where the bundled datasets are. @default this module's folder */
  readonly datasetsDir?: string;
}

export interface ResolvedDataset {
  /** The bundled name, or the file's name without extension. */
  readonly name: string;
  /** `bundled:<name>`, or the file path. */
  readonly source: string;
  /** One line on what the data is and where it comes from (with its license when bundled). */
  readonly description: string;
  readonly input: DataInput;
  readonly format: DataFormat;
  /**
   * The contract given, else the bundled one, else `input_schema.json` beside the file; null when
   * a file has none (then `load` needs one, and `loadFrame` infers the column types).
   */
  readonly contract: DataContract | null;
  /** Validates the file: valid frame, quarantined rows, counts. */
  load(options?: ValidationOptions): Promise<ValidationResult>;
  /** The frame, all or nothing: any row that breaks the contract fails the load. */
  loadFrame(options?: ValidationOptions): Promise<Frame>;
}

/**
 * A bundled dataset by name (`iris`, also `bundled:iris`), or a data file by path. Fails with
 * `UNKNOWN_DATASET` naming the bundled datasets when it is neither.
 */
export async function resolveDataset(
  nameOrPath: string,
  options: ResolveDatasetOptions = {},
): Promise<ResolvedDataset> {
  const bundledName = nameOrPath.startsWith('bundled:') ? nameOrPath.slice('bundled:'.length) : nameOrPath;
  const bundled = bundledDatasets.get(bundledName);
  if (bundled) {
    const dir = options.datasetsDir ?? defaultDatasetsDir();
    const path = join(dir, bundled.dataFile);
    const contract = options.contract ?? (await readContractFile(join(dir, bundled.contractFile)));
    return resolved({
      name: bundled.name,
      source: `bundled:${bundled.name}`,
      description: `${bundled.title}; ${bundled.origin}; license: ${bundled.license}`,
      path,
      contract,
    });
  }

  if (nameOrPath.startsWith('bundled:') || extname(nameOrPath) === '') {
    throw unknownDataset(nameOrPath, 'it is not a bundled dataset');
  }
  const format = dataFormatOf(nameOrPath);
  if (!(await isFile(nameOrPath))) throw unknownDataset(nameOrPath, 'there is no such file');
  const besideFile = join(dirname(nameOrPath), CONTRACT_FILE);
  const contract =
    options.contract ?? ((await isFile(besideFile)) ? await readContractFile(besideFile) : null);
  return resolved({
    name: basename(nameOrPath, extname(nameOrPath)),
    source: nameOrPath,
    description: `${format} file ${nameOrPath}`,
    path: nameOrPath,
    contract,
  });
}

function resolved(dataset: {
  name: string;
  source: string;
  description: string;
  path: string;
  contract: DataContract | null;
}): ResolvedDataset {
  const format = dataFormatOf(dataset.path);
  const input: DataInput = { path: dataset.path, format };
  const { contract } = dataset;
  return {
    ...dataset,
    input,
    format,
    load: (options) => {
      if (!contract) {
        return Promise.reject(
          new DataError(
            'INVALID_OPTIONS',
            `${dataset.source} has no data contract (no ${CONTRACT_FILE} beside it): give one to validate against`,
            { field: 'contract', source: dataset.source },
          ),
        );
      }
      return loadAndValidate(input, contract, options);
    },
    loadFrame: (options) => loadFrame(input, { ...options, ...(contract ? { contract } : {}) }),
  };
}

function unknownDataset(nameOrPath: string, why: string): DataError {
  const names = [...bundledDatasets.keys()].join(', ');
  return new DataError(
    'UNKNOWN_DATASET',
    `unknown dataset "${nameOrPath}": ${why}; use a bundled dataset (${names}) or the path of a .csv, .json, .jsonl or .parquet file`,
    { field: 'dataset', source: nameOrPath },
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
