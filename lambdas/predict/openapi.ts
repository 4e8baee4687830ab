/**
 * The OpenAPI 3.1 document of the predict API. When the default alias has a model loaded, the
 * record schema lists its input fields and types; otherwise records are described generically.
 */
import type { ColumnType } from '../core/serving/model-directory';
import type { ServableModel } from '../core/serving/servable-model';

export interface OpenApiOptions {
  readonly modelName: string;
  readonly defaultAlias: string;
  readonly maxRows: number;
  readonly maxBodyBytes: number;
  /** The default alias's model, when loaded. */
  readonly model?: ServableModel;
}

type JsonSchema = Record<string, unknown>;

const JSON_TYPES: Readonly<Record<ColumnType, JsonSchema>> = {
  boolean: { type: 'boolean' },
  integer: { type: 'integer', format: 'int32' },
  long: { type: 'integer', format: 'int64' },
  float: { type: 'number', format: 'float' },
  double: { type: 'number', format: 'double' },
};

export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const { model } = options;
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: `Predict API: ${options.modelName}`,
      version: model ? `${options.defaultAlias}-v${model.version}` : options.defaultAlias,
      description:
        `Serves the ONNX model registered in MLflow as '${options.modelName}', following the alias ` +
        `'${options.defaultAlias}' (or another alias given with ?alias=). At most ${options.maxRows} rows ` +
        `and ${options.maxBodyBytes} bytes per request.`,
    },
    paths: {
      '/predict': {
        post: {
          operationId: 'predict',
          summary: 'Predict with the model an alias points at',
          parameters: [
            {
              name: 'alias',
              in: 'query',
              required: false,
              description: `A registry alias to predict with (shadow or canary); default '${options.defaultAlias}'.`,
              schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,255}$' },
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/PredictRequest' },
                ...(model?.exampleRequest !== undefined ? { example: model.exampleRequest } : {}),
              },
            },
          },
          responses: {
            '200': {
              description: 'One prediction per input row, and the model version that made them',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictResponse' } } },
            },
            '400': errorResponse(
              'Malformed body or input that does not match the model (the field and row are named)',
            ),
            '415': errorResponse('The body is not declared as application/json'),
            '503': errorResponse('No model version is loadable for the alias'),
          },
        },
      },
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Whether the default alias has a model to serve',
          responses: {
            '200': {
              description: 'Serving',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } },
            },
            '503': errorResponse('No model loadable'),
          },
        },
      },
      '/status': {
        get: {
          operationId: 'status',
          summary:
            'Per alias: the version the registry resolves, the version loaded here, and the last error',
          responses: {
            '200': {
              description: 'The alias watchers',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Status' } } },
            },
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': {} } } },
        },
      },
    },
    components: { schemas: schemas(options) },
  };
}

function schemas(options: OpenApiOptions): Record<string, JsonSchema> {
  const columns = options.model?.schema.columns;
  const width = options.model?.schema.width;
  const record: JsonSchema = columns
    ? {
        type: 'object',
        properties: Object.fromEntries(columns.map((column) => [column.name, JSON_TYPES[column.type]])),
        required: columns.map((column) => column.name),
        additionalProperties: false,
      }
    : { type: 'object', additionalProperties: { type: ['number', 'boolean'] } };
  const positionalRow: JsonSchema = {
    type: 'array',
    items: { type: 'number' },
    ...(width ? { minItems: width, maxItems: width } : {}),
  };
  const rows = (items: JsonSchema): JsonSchema => ({
    type: 'array',
    items,
    minItems: 1,
    maxItems: options.maxRows,
  });
  const error: JsonSchema = {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', examples: ['INVALID_TYPE', 'MISSING_FIELD', 'MODEL_UNAVAILABLE'] },
          message: { type: 'string' },
          field: { type: ['string', 'null'] },
          row: { type: ['integer', 'null'] },
        },
      },
    },
  };
  const aliasStatus: JsonSchema = {
    type: 'object',
    properties: {
      alias: { type: 'string' },
      state: { enum: ['ok', 'loading', 'updating', 'degraded', 'unavailable'] },
      resolved_version: { type: ['string', 'null'] },
      loaded_version: { type: ['string', 'null'] },
      run_id: { type: ['string', 'null'] },
      last_resolved_at: { type: ['string', 'null'], format: 'date-time' },
      last_checked_at: { type: ['string', 'null'], format: 'date-time' },
      last_load_ms: { type: ['number', 'null'] },
      last_error: {
        type: ['object', 'null'],
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
          version: { type: 'string' },
        },
      },
    },
  };
  return {
    Record: record,
    PredictRequest: {
      oneOf: [
        {
          type: 'object',
          required: ['instances'],
          additionalProperties: false,
          properties: {
            instances: rows({ oneOf: [{ $ref: '#/components/schemas/Record' }, positionalRow] }),
          },
        },
        {
          type: 'object',
          required: ['dataframe_records'],
          additionalProperties: false,
          properties: { dataframe_records: rows({ $ref: '#/components/schemas/Record' }) },
        },
        {
          type: 'object',
          required: ['dataframe_split'],
          additionalProperties: false,
          properties: {
            dataframe_split: {
              type: 'object',
              required: ['columns', 'data'],
              properties: {
                columns: { type: 'array', items: { type: 'string' } },
                data: rows({ type: 'array', items: { type: ['number', 'boolean'] } }),
                index: { type: 'array' },
              },
            },
          },
        },
        {
          type: 'object',
          required: ['inputs'],
          additionalProperties: false,
          properties: {
            inputs: {
              oneOf: [
                rows({ oneOf: [{ $ref: '#/components/schemas/Record' }, positionalRow] }),
                { type: 'object', additionalProperties: { type: 'array' } },
              ],
            },
          },
        },
      ],
    },
    Prediction: {
      oneOf: [
        {
          type: 'object',
          description: 'Classifiers: the predicted label and the probability of each class',
          required: ['label', 'probabilities'],
          properties: {
            label: { type: ['string', 'integer'] },
            probabilities: { type: 'object', additionalProperties: { type: 'number' } },
          },
        },
        { type: 'number', description: 'Regressors: the predicted value' },
        { type: 'array', items: { type: 'number' } },
        { type: 'object', description: 'Other graphs: every output by name' },
      ],
    },
    PredictResponse: {
      type: 'object',
      required: ['predictions', 'model'],
      properties: {
        predictions: { type: 'array', items: { $ref: '#/components/schemas/Prediction' } },
        model: {
          type: 'object',
          required: ['name', 'version', 'alias', 'run_id'],
          properties: {
            name: { type: 'string' },
            version: { type: 'string' },
            alias: { type: 'string' },
            run_id: { type: 'string' },
          },
        },
      },
    },
    Health: {
      type: 'object',
      properties: {
        status: { const: 'ok' },
        model: { type: 'object' },
      },
    },
    Status: {
      type: 'object',
      properties: {
        status: { enum: ['ok', 'degraded', 'unavailable'] },
        model: { type: 'string' },
        default_alias: { type: 'string' },
        alias_ttl_seconds: { type: 'number' },
        aliases: { type: 'array', items: aliasStatus },
      },
    },
    Error: error,
  };
}
