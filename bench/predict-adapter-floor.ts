/**
 * The adapter floor for `bench:predict`: `npm run serve`'s API Gateway adapter (HTTP request →
 * proxy event → handler in its invocation store → HTTP answer) around a handler that answers a
 * constant. No handler behind the adapter can be faster; ours against it shows what the handler
 * costs, it against the bare Node server what the API Gateway emulation costs.
 *
 *   PORT=3001 FLOOR_ANSWER='{"predictions":[]}' tsx --experimental-async-context-frame bench/predict-adapter-floor.ts
 */
import { createApiGatewayServer } from '../localstack/serve/api-gateway-adapter';

const answer = process.env.FLOOR_ANSWER ?? '{}';
const port = Number(process.env.PORT ?? 3001);
// The env snapshot `npm run serve` takes, so the two run alike.
process.env = { ...process.env };

const server = createApiGatewayServer(async () => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: answer,
}));
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
