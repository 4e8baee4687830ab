/**
 * The OpenAPI 3.1 document of the predict API. When the default alias has a model loaded, the
 * request schemas list its input columns (type, whether required, the categories a string column
 * knows as an `enum`) and the response schema its predictions (a classifier's classes, or a
 * number); otherwise both are described generically. Every answer of the API conforms to it.
 */
import type { InputColumn } from '../core/serving/model-inputs';
import type { ModelOutputs } from '../core/serving/model-outputs';
import type { ServableModel } from '../core/serving/servable-model';
import type { ApiAuthMode } from './config';

export interface OpenApiOptions {
  readonly modelName: string;
  readonly defaultAlias: string;
  readonly maxRows: number;
  readonly maxBodyBytes: number;
  /** What `?alias=` may name. @default the default alias alone */
  readonly allowedAliases?: readonly string[];
  /** How /predict and /status authenticate callers. @default 'iam' */
  readonly apiAuth?: ApiAuthMode;
  /** The default alias's model, when loaded. */
  readonly model?: ServableModel;
}

type JsonSchema = Record<string, unknown>;

/** A column's JSON value: its type (null too when optional), and a string column's known categories. */
export function columnSchema(column: InputColumn): JsonSchema {
  if (column.kind === 'datetime') {
    const forms = [
      { type: 'string', format: 'date-time' },
      { type: 'string', format: 'date' },
      { type: 'number' },
    ];
    return {
      description: 'ISO 8601 date or date-time (UTC unless it has an offset), or epoch milliseconds',
      anyOf: column.required ? forms : [...forms, { type: 'null' }],
    };
  }
  const type = column.required ? column.kind : [column.kind, 'null'];
  if (!column.categories) return { type };
  return { type, enum: column.required ? [...column.categories] : [...column.categories, null] };
}

/** The JSON types a column's values take. */
function jsonTypesOf(column: InputColumn): string[] {
  return column.kind === 'datetime' ? ['string', 'number'] : [column.kind];
}

/**
 * The security schemes as API Gateway exports them: SigV4 is API Gateway's `awsSigv4` auth type
 * on the Authorization header; the API key goes in `x-api-key`.
 */
const SECURITY_SCHEMES: Readonly<Record<ApiAuthMode, [string, JsonSchema]>> = {
  iam: [
    'sigv4',
    {
      type: 'apiKey',
      name: 'Authorization',
      in: 'header',
      description:
        "AWS Signature Version 4 with the caller's IAM credentials (service execute-api), e.g. curl --aws-sigv4 'aws:amz:<region>:execute-api'",
      'x-amazon-apigateway-authtype': 'awsSigv4',
    },
  ],
  'api-key': [
    'api_key',
    { type: 'apiKey', name: 'x-api-key', in: 'header', description: 'An API key of the usage plan' },
  ],
};

export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const { model } = options;
  const aliases = options.allowedAliases ?? [options.defaultAlias];
  const [schemeName, scheme] = SECURITY_SCHEMES[options.apiAuth ?? 'iam'];
  const authenticated = [{ [schemeName]: [] }];
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  const mlflowErrorResponse = (description: string) => ({
    description,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['error_code', 'message'],
          properties: { error_code: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  });
  const forbidden = {
    description: 'No valid credentials (answered by API Gateway: `{"message": …}`)',
    content: {
      'application/json': { schema: { type: 'object', properties: { message: { type: 'string' } } } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: `Predict API: ${options.modelName}`,
      version: model ? `${options.defaultAlias}-v${model.version}` : options.defaultAlias,
      description:
        `Serves the ONNX model registered in MLflow as '${options.modelName}', following the alias ` +
        `'${options.defaultAlias}' (or another allowed alias given with ?alias=: ${aliases.join(', ')}). ` +
        `At most ${options.maxRows} rows and ${options.maxBodyBytes} bytes per request. /predict and ` +
        `/status need ${options.apiAuth === 'api-key' ? 'an API key' : 'SigV4-signed requests'}, as does ` +
        "/invocations (MLflow's scoring protocol); /health, /ping and /openapi.json are public.",
    },
    paths: {
      '/predict': {
        post: {
          operationId: 'predict',
          summary: 'Predict with the model an alias points at',
          security: authenticated,
          parameters: [
            {
              name: 'alias',
              in: 'query',
              required: false,
              description: `A registry alias to predict with (shadow or canary); default '${options.defaultAlias}'. Only the aliases this deployment allows.`,
              schema: { type: 'string', enum: [...aliases] },
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
            '403': forbidden,
            '404': errorResponse('The alias is not one this deployment allows'),
            '415': errorResponse('The body is not declared as application/json'),
            '503': errorResponse('No model version is loadable for the alias'),
          },
        },
      },
      '/invocations': {
        post: {
          operationId: 'invocations',
          summary:
            "MLflow's scoring protocol, as `mlflow models serve` answers it, with the default alias's model",
          security: authenticated,
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/PredictRequest' } },
              'text/csv': {
                schema: { type: 'string', description: 'A header row of column names, then rows' },
              },
            },
          },
          responses: {
            '200': {
              description:
                'The graph outputs: records ([{output: value}]) for DataFrame inputs, else {output: array}',
              content: {
                'application/json': {
                  schema: { type: 'object', required: ['predictions'], properties: { predictions: {} } },
                },
              },
            },
            '400': mlflowErrorResponse('The body does not fit the protocol or the model'),
            '403': forbidden,
            '415': { description: 'Not application/json or text/csv (UTF-8)', content: { 'text/plain': {} } },
            '503': mlflowErrorResponse('No model version is loadable'),
          },
        },
      },
      '/ping': {
        get: {
          operationId: 'ping',
          security: [],
          summary: 'Readiness: 200 once the default alias has a model loaded, else 503',
          responses: {
            '200': { description: 'A model is loaded', content: { 'application/json': {} } },
            '503': mlflowErrorResponse('No model loaded yet'),
          },
        },
      },
      '/health': {
        get: {
          operationId: 'health',
          security: [],
          summary: 'Liveness: 200 whenever the process answers, with the loaded version (null before one is)',
          responses: {
            '200': {
              description: 'Alive',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } },
            },
          },
        },
      },
      '/status': {
        get: {
          operationId: 'status',
          security: authenticated,
          summary:
            'Per alias: the version its serving manifest names, the version loaded here with its manifest, and the last error',
          responses: {
            '200': {
              description: 'The alias watchers',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Status' } } },
            },
            '403': forbidden,
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          security: [],
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': {} } } },
        },
      },
    },
    security: authenticated,
    components: { securitySchemes: { [schemeName]: scheme }, schemas: schemas(options) },
  };
}

function schemas(options: OpenApiOptions): Record<string, JsonSchema> {
  const model = options.model;
  const columns = model?.inputs.columns;
  const rows = (items: JsonSchema): JsonSchema => ({
    type: 'array',
    items,
    minItems: 1,
    maxItems: options.maxRows,
  });
  const record: JsonSchema = columns
    ? {
        type: 'object',
        properties: Object.fromEntries(columns.map((column) => [column.name, columnSchema(column)])),
        required: columns.filter((column) => column.required).map((column) => column.name),
        additionalProperties: false,
      }
    : { type: 'object', additionalProperties: { type: ['number', 'integer', 'boolean', 'string', 'null'] } };
  const positionalRow: JsonSchema = columns
    ? {
        type: 'array',
        description: `The values in the model's column order: ${columns.map((column) => column.name).join(', ')}`,
        prefixItems: columns.map(columnSchema),
        items: false,
        minItems: columns.length,
      }
    : { type: 'array', items: { type: ['number', 'boolean', 'string', 'null'] } };
  const anyCell: JsonSchema = columns
    ? {
        type: [
          ...new Set(
            columns.flatMap((column) => [...jsonTypesOf(column), ...(column.required ? [] : ['null'])]),
          ),
        ],
      }
    : { type: ['number', 'boolean', 'string', 'null'] };
  const splitColumns: JsonSchema = columns
    ? { type: 'array', items: { enum: columns.map((column) => column.name) }, uniqueItems: true }
    : { type: 'array', items: { type: 'string' } };
  const columnar: JsonSchema = columns
    ? {
        type: 'object',
        description: 'Column-wise: each column a list of values (or of one-value lists, [N, 1])',
        properties: Object.fromEntries(
          columns.map((column) => {
            const cell = columnSchema(column);
            return [
              column.name,
              {
                type: 'array',
                items: { anyOf: [cell, { type: 'array', items: cell, minItems: 1, maxItems: 1 }] },
              },
            ];
          }),
        ),
        required: columns.filter((column) => column.required).map((column) => column.name),
        additionalProperties: false,
      }
    : { type: 'object', additionalProperties: { type: 'array' } };
  const matrix =
    model?.inputs.inputs.length === 1 && model.inputs.inputs[0]?.layout === 'matrix'
      ? model.inputs.inputs[0]
      : undefined;
  const inputsForms: JsonSchema[] = [
    rows({ anyOf: [{ $ref: '#/components/schemas/Record' }, positionalRow] }),
    columnar,
  ];
  if (matrix) {
    inputsForms.push({
      type: 'object',
      required: [matrix.name],
      additionalProperties: false,
      properties: { [matrix.name]: rows(positionalRow) },
    });
  }
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
      manifest: {
        type: ['object', 'null'],
        description: 'The serving manifest of the loaded version',
        properties: {
          version: { type: 'string' },
          run_id: { type: ['string', 'null'] },
          moved_at: { type: 'string', format: 'date-time' },
          moved_by: { type: ['string', 'null'] },
          via: { enum: ['cli', 'pipeline', 'webhook', 'reconciler'] },
          written_at: { type: 'string', format: 'date-time' },
          model_onnx_sha256: { type: 'string' },
        },
      },
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
            instances: rows({ anyOf: [{ $ref: '#/components/schemas/Record' }, positionalRow] }),
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
              additionalProperties: false,
              properties: {
                columns: splitColumns,
                data: rows({ type: 'array', items: anyCell }),
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
            inputs: { anyOf: inputsForms },
          },
        },
      ],
    },
    Prediction: model ? predictionSchema(model.outputs) : GENERIC_PREDICTION,
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

const GENERIC_PREDICTION: JsonSchema = {
  anyOf: [
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
};

/** The served model's prediction: its classes, or its number. */
function predictionSchema(outputs: ModelOutputs): JsonSchema {
  if (outputs.task === 'classification') {
    const classes = outputs.classes;
    const label: JsonSchema =
      outputs.labelType === 'string'
        ? { type: 'string', ...(classes ? { enum: [...classes] } : {}) }
        : { type: 'integer' };
    return {
      type: 'object',
      description: 'The predicted label and the probability of each class',
      required: ['label', 'probabilities'],
      additionalProperties: false,
      properties: {
        label,
        probabilities: classes
          ? {
              type: 'object',
              properties: Object.fromEntries(classes.map((name) => [name, { type: 'number' }])),
              required: [...classes],
              additionalProperties: false,
            }
          : { type: 'object', additionalProperties: { type: 'number' } },
      },
    };
  }
  if (outputs.task === 'regression') {
    return outputs.valuesPerRow === 1 || outputs.valuesPerRow === undefined
      ? { type: 'number', description: 'The predicted value' }
      : {
          type: 'array',
          items: { type: 'number' },
          minItems: outputs.valuesPerRow,
          maxItems: outputs.valuesPerRow,
        };
  }
  return { type: 'object', description: 'Every output of the graph by name' };
}
