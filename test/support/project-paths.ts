/** Where the tests find the project and its Python environment (localstack/.venv, from npm run setup). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PYTHON = path.join(PROJECT_ROOT, 'localstack/.venv/bin/python');
