import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportToOnnx, inlineExternalData, inspectOnnx, OnnxFormatError } from '../../lambdas/core/onnx';
import {
  encodeModelProto,
  type ModelProto,
  TensorDataLocation,
  TensorDataType,
} from '../../lambdas/core/onnx/proto-messages';
import type { TreeEnsembleModel } from '../../lambdas/core/training/model-types';

const forest: TreeEnsembleModel = {
  kind: 'trees',
  task: 'classification',
  features: ['petal_length', 'petal_width', 'sepal_length'],
  classes: ['setosa', 'versicolor', 'virginica'],
  trees: [
    {
      feature: [0, 0, 0],
      threshold: [2.5, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [[], [1, 0, 0], [0, 0.5, 0.5]],
    },
  ],
  aggregate: 'average',
  baseValues: [0, 0, 0],
  postTransform: 'none',
};

/** y = x · w with w = [1, 2, 3] held as external data at `offset` in `location`, the way onnx.save_model stores it. */
function matMulWithExternalWeights(location: string, offset: number): ModelProto {
  return {
    ir_version: 8,
    opset_import: [{ domain: '', version: 16 }],
    producer_name: 'test',
    graph: {
      name: 'matmul',
      node: [{ op_type: 'MatMul', input: ['X', 'W'], output: ['y'] }],
      initializer: [
        {
          name: 'W',
          dims: [3, 1],
          data_type: TensorDataType.FLOAT,
          data_location: TensorDataLocation.EXTERNAL,
          external_data: [
            { key: 'location', value: location },
            { key: 'offset', value: String(offset) },
            { key: 'length', value: '12' },
          ],
        },
      ],
      input: [
        {
          name: 'X',
          type: {
            tensor_type: {
              elem_type: TensorDataType.FLOAT,
              shape: { dim: [{ dim_param: 'batch' }, { dim_value: 3 }] },
            },
          },
        },
      ],
      output: [{ name: 'y', type: { tensor_type: { elem_type: TensorDataType.FLOAT } } }],
    },
  };
}

function weightsFile(offset: number): Uint8Array {
  const file = new Uint8Array(offset + 12);
  new DataView(file.buffer).setFloat32(offset, 1, true);
  new DataView(file.buffer).setFloat32(offset + 4, 2, true);
  new DataView(file.buffer).setFloat32(offset + 8, 3, true);
  return file;
}

describe('inspectOnnx', () => {
  it('reports the graph contract, opsets and metadata of an exported model', () => {
    const info = inspectOnnx(exportToOnnx(forest));

    expect(info.inputs).toEqual(
      forest.features.map((name) => ({ name, kind: 'tensor', elementType: 'double', shape: ['N'] })),
    );
    expect(info.outputs).toEqual([
      { name: 'label', kind: 'tensor', elementType: 'string', shape: ['N'] },
      ...(forest.classes ?? []).map((name) => ({
        name: `probability_${name}`,
        kind: 'tensor',
        elementType: 'float',
        shape: ['N'],
      })),
    ]);
    expect(info.opsets).toEqual([
      { domain: '', version: 16 },
      { domain: 'ai.onnx.ml', version: 3 },
    ]);
    expect(info.irVersion).toBe(8);
    expect(JSON.parse(info.metadata.feature_names ?? '')).toEqual(forest.features);
    expect(JSON.parse(info.metadata.class_labels ?? '')).toEqual(forest.classes);
    expect(info.metadata.task).toBe('classification');
    expect(JSON.parse(info.metadata.feature_categories ?? '')).toEqual({});
    expect(info.externalDataFiles).toEqual([]);
  });

  it('lists the external data files a model needs', () => {
    const info = inspectOnnx(encodeModelProto(matMulWithExternalWeights('weights.bin', 0)));

    expect(info.externalDataFiles).toEqual(['weights.bin']);
    expect(info.inputs.map((input) => [input.name, input.shape])).toEqual([['X', ['batch', 3]]]);
    expect(info.outputs[0]?.shape).toBeNull();
  });

  it.each([
    ['empty bytes', new Uint8Array()],
    ['random bytes', Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256)],
    ['JSON text', new TextEncoder().encode('{"model": "not onnx"}')],
  ])('rejects %s with an OnnxFormatError', (_name, bytes) => {
    expect(() => inspectOnnx(bytes)).toThrow(OnnxFormatError);
  });
});

describe('inlineExternalData', () => {
  it('makes a model with external weights loadable from one buffer', async () => {
    const model = encodeModelProto(matMulWithExternalWeights('data/weights.bin', 8));
    const files = new Map([['data/weights.bin', weightsFile(8)]]);

    const inlined = inlineExternalData(model, (location) => files.get(location));
    const session = await ort.InferenceSession.create(inlined);
    const { y } = await session.run({
      X: new ort.Tensor('float32', Float32Array.from([1, 1, 1, 0.5, -1, 2]), [2, 3]),
    });
    await session.release();

    expect(Array.from(y?.data as Float32Array)).toEqual([6, 4.5]);
    expect(inspectOnnx(inlined).externalDataFiles).toEqual([]);
  });

  it('returns a model without external data unchanged', () => {
    const bytes = exportToOnnx(forest);

    expect(inlineExternalData(bytes, () => undefined)).toBe(bytes);
  });

  it('names the missing file', () => {
    const model = encodeModelProto(matMulWithExternalWeights('weights.bin', 0));

    const attempt = () => inlineExternalData(model, () => undefined);

    expect(attempt).toThrow(OnnxFormatError);
    expect(attempt).toThrow(/needs external data file 'weights.bin'/);
  });

  it('refuses locations outside the model directory', () => {
    const model = encodeModelProto(matMulWithExternalWeights('../secrets.bin', 0));
    const read = (location: string) => (location === '../secrets.bin' ? weightsFile(0) : undefined);

    expect(() => inlineExternalData(model, read)).toThrow(/not a relative path/);
  });

  it('refuses a file shorter than the tensor', () => {
    const model = encodeModelProto(matMulWithExternalWeights('weights.bin', 4));

    expect(() => inlineExternalData(model, () => weightsFile(0))).toThrow(
      /reads bytes 4..16 of 'weights.bin', which has 12/,
    );
  });
});
