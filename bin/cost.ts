/**
 * `npm run cost -- --stage dev|prod [--json] [--out bench/results] [-c key=value …]`: the monthly
 * idle cost of a stage, resource by resource, from its synthesized template and the pinned price
 * table lib/cost/prices-us-east-1.json. With --json the last line of the output is
 * `{"stage","total_monthly_usd","resources":[…]}`; --out also writes idle-cost-<stage>.md and .json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../lib/config';
import { CostError, formatTable, idleCost, priceTableSchema } from '../lib/cost/idle-cost';
import { synthStageTemplate } from '../lib/cost/synth-stage';
import { PROJECT_ROOT } from '../lib/mlops-function';

/** prod requires an alarm subscriber; an e-mail subscription costs nothing, so any address prices the same. */
const PRICING_ALARM_EMAIL = 'alarms@example.com';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string', default: 'dev' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      context: { type: 'string', short: 'c', multiple: true, default: [] },
    },
    allowPositionals: false,
  });
  const overrides: Record<string, string> = {};
  for (const pair of values.context) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ConfigError(`-c ${pair}: expected key=value`);
    overrides[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (values.stage === 'prod' && overrides.alarmEmail === undefined)
    overrides.alarmEmail = PRICING_ALARM_EMAIL;

  const prices = priceTableSchema.parse(
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'lib/cost/prices-us-east-1.json'), 'utf8')),
  );
  const { config, template } = await synthStageTemplate(values.stage, overrides);
  if (config.region !== prices.region) {
    console.error(`note: the stage is in ${config.region}; prices are ${prices.region}'s`);
  }
  const cost = idleCost(template, prices);
  const table = formatTable(config.stage, cost, prices);
  const json = JSON.stringify({
    stage: config.stage,
    total_monthly_usd: cost.totalMonthlyUsd,
    resources: cost.resources.map((r) => ({
      name: r.name,
      logical_id: r.logicalId,
      type: r.type,
      monthly_usd: Math.round(r.monthlyUsd * 100) / 100,
      basis: r.basis,
      ...(r.usageBased ? { usage_based: true } : {}),
    })),
  });
  if (values.out) {
    const dir = resolve(values.out);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `idle-cost-${config.stage}.md`), table);
    writeFileSync(
      join(dir, `idle-cost-${config.stage}.json`),
      `${JSON.stringify(JSON.parse(json), null, 2)}\n`,
    );
  }
  process.stdout.write(table);
  if (values.json) process.stdout.write(`${json}\n`);
  else process.stdout.write(`\nTotal: $${cost.totalMonthlyUsd.toFixed(2)} a month idle (${config.stage})\n`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  if (
    err instanceof ConfigError ||
    err instanceof CostError ||
    (err instanceof Error && err.name === 'TypeError' && 'code' in err)
  ) {
    console.error(`cost: ${err.message}`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
