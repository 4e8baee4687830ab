/**
 * Brings tensors stored outside the model file back into it. `mlflow.onnx.save_model` saves
 * every tensor over 1 KB as external data by default, while onnxruntime-node can only create a
 * session from one buffer, so a model logged that way is made self-contained before serving.
 */
import { OnnxFormatError } from './errors';
import { decodeOnnxModel } from './inspect-model';
import { encodeModelProto, TensorDataLocation } from './proto-messages';
import { forEachTensor } from './tensor-walk';

/**
 * Returns the model with every external tensor inlined (the same bytes when there is none).
 * `readFile` gets the `location` the tensor names, relative to the model file's directory.
 */
export function inlineExternalData(
  bytes: Uint8Array,
  readFile: (location: string) => Uint8Array | undefined,
): Uint8Array {
  const model = decodeOnnxModel(bytes);
  let inlined = 0;
  forEachTensor(model, (tensor) => {
    if (tensor.data_location !== TensorDataLocation.EXTERNAL) return;
    const entries = new Map(
      (tensor.external_data ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']),
    );
    const location = entries.get('location') ?? '';
    const what = `tensor '${tensor.name ?? ''}'`;
    if (!isRelativeInside(location)) {
      throw new OnnxFormatError(
        `${what} names external data '${location}', which is not a relative path`,
        location,
      );
    }
    const file = readFile(location);
    if (!file)
      throw new OnnxFormatError(`${what} needs external data file '${location}', which is missing`, location);
    const offset = Number(entries.get('offset') ?? '0');
    const length = entries.has('length') ? Number(entries.get('length')) : file.byteLength - offset;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new OnnxFormatError(`${what} has an invalid external data offset or length`);
    }
    if (offset + length > file.byteLength) {
      throw new OnnxFormatError(
        `${what} reads bytes ${offset}..${offset + length} of '${location}', which has ${file.byteLength}`,
      );
    }
    tensor.raw_data = file.subarray(offset, offset + length);
    tensor.external_data = [];
    tensor.data_location = TensorDataLocation.DEFAULT;
    inlined++;
  });
  return inlined === 0 ? bytes : encodeModelProto(model);
}

/** A path inside the model's directory: relative, no `..` segment (the file could be anywhere). */
function isRelativeInside(location: string): boolean {
  if (location === '' || location.startsWith('/') || /^[a-zA-Z]:/.test(location)) return false;
  return !location.split(/[\\/]/).includes('..');
}
