/**
 * The Python environment files MLflow writes beside a model (conda.yaml, python_env.yaml,
 * requirements.txt), so `mlflow models serve` / `mlflow.pyfunc.spark_udf` can rebuild an
 * environment the model loads in.
 */
import { stringify } from 'yaml';

export interface PythonEnvironment {
  /** The interpreter version pyfunc environments are built with. */
  readonly pythonVersion: string;
  /** Lines of requirements.txt. */
  readonly pipRequirements: readonly string[];
}

/**
 * The versions the interoperability test loads our models with (localstack/requirements.txt and
 * its venv's Python); `mlflow.onnx` itself pins onnx and onnxruntime the same way.
 */
export const DEFAULT_PYTHON_ENVIRONMENT: PythonEnvironment = {
  pythonVersion: '3.11.7',
  pipRequirements: ['mlflow==3.17.2', 'onnx==1.23.2', 'onnxruntime==1.31.1'],
};

export const CONDA_FILE = 'conda.yaml';
export const PYTHON_ENV_FILE = 'python_env.yaml';
export const REQUIREMENTS_FILE = 'requirements.txt';

/** The three files, in MLflow's layout (mlflow.utils.environment). */
export function pythonEnvironmentFiles(environment: PythonEnvironment): Map<string, string> {
  const conda = {
    channels: ['conda-forge'],
    dependencies: [`python=${environment.pythonVersion}`, 'pip', { pip: [...environment.pipRequirements] }],
    name: 'mlflow-env',
  };
  // MLflow pins the build tools to the versions of the process that logged the model; a model
  // written from TypeScript has no such process, so they are left to the environment builder.
  const pythonEnv = {
    python: environment.pythonVersion,
    build_dependencies: ['pip', 'setuptools', 'wheel'],
    dependencies: [`-r ${REQUIREMENTS_FILE}`],
  };
  return new Map([
    [CONDA_FILE, stringify(conda, { version: '1.1' })],
    [PYTHON_ENV_FILE, stringify(pythonEnv, { version: '1.1' })],
    [REQUIREMENTS_FILE, environment.pipRequirements.join('\n')],
  ]);
}
