/**
 * The drift report in a real browser: headless Chromium, driven over the DevTools protocol with
 * Node's built-in WebSocket, loads the page from disk, and we check that the charts render, the
 * page fetches nothing, nothing is logged as an error, and the screenshot shows the bars.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Column, categoricalColumn, type Frame, numericColumn } from '../../lambdas/core/data/frame';
import { computeDrift, computeHistograms, renderDriftReport } from '../../lambdas/core/drift';
import { seededUniform } from '../../lambdas/core/seeded-random';
import { normalSample } from '../support/seeded-samples';

const CHROMIUM = '/usr/bin/chromium';

/** Chromium's path, installing Debian's package when we are root; otherwise why we cannot. */
function ensureChromium(): { path: string } | { reason: string } {
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  if (process.getuid?.() !== 0)
    return { reason: `${CHROMIUM} is missing and only root can apt-get install it` };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let install = spawnSync('apt-get', ['install', '-y', 'chromium'], { env, encoding: 'utf8' });
  if (install.status !== 0) {
    spawnSync('apt-get', ['update'], { env, encoding: 'utf8' });
    install = spawnSync('apt-get', ['install', '-y', 'chromium'], { env, encoding: 'utf8' });
  }
  if (install.status !== 0 || !existsSync(CHROMIUM)) {
    return { reason: `apt-get install -y chromium failed: ${install.stderr.trim().split('\n').pop()}` };
  }
  return { path: CHROMIUM };
}

const chromium = ensureChromium();
const skipReason = 'reason' in chromium ? chromium.reason : undefined;
if (skipReason) console.warn(`[drift-report-browser] skipped: ${skipReason}`);

// ---------------------------------------------------------------- a minimal DevTools client

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

class DevTools {
  private nextId = 1;
  private readonly pending = new Map<number, (message: CdpMessage) => void>();
  readonly events: CdpMessage[] = [];
  private readonly waiters: { method: string; resolve: (m: CdpMessage) => void }[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as CdpMessage;
      if (message.id !== undefined) {
        this.pending.get(message.id)?.(message);
        this.pending.delete(message.id);
        return;
      }
      this.events.push(message);
      for (const waiter of this.waiters.filter((w) => w.method === message.method)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    });
  }

  static async connect(url: string): Promise<DevTools> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    return new DevTools(socket);
  }

  async send(method: string, params: Record<string, unknown> = {}, sessionId?: string) {
    const id = this.nextId++;
    const reply = await new Promise<CdpMessage>((resolve) => {
      this.pending.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
    return reply.result ?? {};
  }

  waitFor(method: string, timeoutMs = 15_000): Promise<CdpMessage> {
    const seen = this.events.find((e) => e.method === method);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        method,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

async function launch(userDataDir: string): Promise<{ browser: ChildProcess; endpoint: string }> {
  const browser = spawn(
    (chromium as { path: string }).path,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${userDataDir}`,
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start:\n${stderr}`)), 30_000);
    browser.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    browser.on('exit', (code) => reject(new Error(`Chromium exited (${code}):\n${stderr}`)));
  });
  return { browser, endpoint };
}

// ---------------------------------------------------------------- PNG pixels

/** Decodes an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium's screenshots are). */
function decodePng(png: Buffer): { width: number; height: number; rgb: (x: number, y: number) => number[] } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8);
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      expect(channels).toBeGreaterThan(0);
      expect(data[12]).toBe(0);
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x] as number;
      const left = x >= channels ? (pixels[y * stride + x - channels] as number) : 0;
      const up = y > 0 ? (pixels[(y - 1) * stride + x] as number) : 0;
      const upLeft = x >= channels && y > 0 ? (pixels[(y - 1) * stride + x - channels] as number) : 0;
      let predictor = 0;
      if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = Math.floor((left + up) / 2);
      else if (filter === 4) {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      pixels[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  return {
    width,
    height,
    rgb: (x, y) => [...pixels.subarray(y * stride + x * channels, y * stride + x * channels + 3)],
  };
}

// ---------------------------------------------------------------- the page under test

function frame(columns: Record<string, Column>, rowCount: number): Frame {
  return { rowCount, columns: new Map(Object.entries(columns)) };
}

function reportHtml(): string {
  const n = 5000;
  const plan = (seed: number, shares: number[]) => {
    const next = seededUniform(seed);
    return Int32Array.from({ length: n }, () => {
      let u = next();
      for (let k = 0; k < shares.length; k++) {
        u -= shares[k] as number;
        if (u < 0) return k;
      }
      return shares.length - 1;
    });
  };
  const plans = ['basic', 'plus', 'premium', 'enterprise <b>'];
  const reference = frame(
    {
      age: numericColumn(normalSample(n, 40, 1, 10)),
      income: numericColumn(normalSample(n, 50_000, 2, 12_000)),
      tenure_months: numericColumn(normalSample(n, 24, 3, 8)),
      plan: categoricalColumn(plan(4, [0.4, 0.3, 0.2, 0.1]), plans),
      churn_probability: numericColumn(normalSample(n, 0.3, 5, 0.1)),
    },
    n,
  );
  const current = frame(
    {
      age: numericColumn(normalSample(n, 40.5, 6, 10)),
      income: numericColumn(normalSample(n, 58_000, 7, 12_000)),
      tenure_months: numericColumn(normalSample(n, 24, 8, 8)),
      plan: categoricalColumn(plan(9, [0.25, 0.3, 0.25, 0.2]), plans),
      churn_probability: numericColumn(normalSample(n, 0.38, 10, 0.1)),
    },
    n,
  );
  const result = computeDrift(reference, current, { predictionColumns: ['churn_probability'] });
  return renderDriftReport(result, computeHistograms(reference, current), {
    generatedAt: new Date('2026-03-01T06:00:00Z'),
    modelName: 'churn-classifier',
    modelVersion: '12',
    referenceLabel: 'dataset sha256:3f2a…',
    currentLabel: '2026-02-22 to 2026-03-01',
  });
}

// ---------------------------------------------------------------- the test

describe.skipIf(skipReason !== undefined)(
  `drift report in headless Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let dir = '';
    let browser: ChildProcess | undefined;
    let devtools: DevTools | undefined;
    let page: {
      svgs: { width: number; height: number; bars: number }[];
      title: string;
      verdict: string;
      tableRows: number;
    };
    let screenshot: Buffer;
    let pageHeight = 0;
    const screenshotFile = path.join(os.tmpdir(), 'drift-report-screenshot.png');

    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'drift-report-'));
      const file = path.join(dir, 'report.html');
      writeFileSync(file, reportHtml());
      const launched = await launch(path.join(dir, 'profile'));
      browser = launched.browser;
      devtools = await DevTools.connect(launched.endpoint);
      const { targetId } = await devtools.send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = (await devtools.send('Target.attachToTarget', { targetId, flatten: true })) as {
        sessionId: string;
      };
      for (const domain of ['Runtime', 'Log', 'Page', 'Network'])
        await devtools.send(`${domain}.enable`, {}, sessionId);
      await devtools.send(
        'Emulation.setDeviceMetricsOverride',
        { width: 1400, height: 1800, deviceScaleFactor: 1, mobile: false },
        sessionId,
      );
      await devtools.send('Page.navigate', { url: pathToFileURL(file).href }, sessionId);
      await devtools.waitFor('Page.loadEventFired');
      const evaluated = (await devtools.send(
        'Runtime.evaluate',
        {
          returnByValue: true,
          expression: `JSON.stringify({
            svgs: [...document.querySelectorAll('svg.histogram')].map((svg) => ({
              width: svg.getBoundingClientRect().width,
              height: svg.getBoundingClientRect().height,
              bars: [...svg.querySelectorAll('rect')].filter((r) => r.getBoundingClientRect().height > 0).length,
            })),
            title: document.title,
            verdict: document.querySelector('.verdict').textContent,
            tableRows: document.querySelectorAll('tbody tr').length,
          })`,
        },
        sessionId,
      )) as { result: { value: string } };
      page = JSON.parse(evaluated.result.value);
      // Grow the viewport to the whole page, so the screenshot shows every chart.
      const metrics = (await devtools.send('Page.getLayoutMetrics', {}, sessionId)) as {
        cssContentSize: { height: number };
      };
      pageHeight = Math.min(Math.ceil(metrics.cssContentSize.height), 8000);
      await devtools.send(
        'Emulation.setDeviceMetricsOverride',
        { width: 1400, height: pageHeight, deviceScaleFactor: 1, mobile: false },
        sessionId,
      );
      const shot = (await devtools.send('Page.captureScreenshot', { format: 'png' }, sessionId)) as {
        data: string;
      };
      screenshot = Buffer.from(shot.data, 'base64');
      writeFileSync(screenshotFile, screenshot);
    });

    afterAll(async () => {
      try {
        await devtools?.send('Browser.close');
      } catch {
        // already gone
      }
      devtools?.close();
      if (browser && browser.exitCode === null) browser.kill('SIGKILL');
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('renders one visible chart per column, with bars', () => {
      expect(page.title).toBe('Data drift report');
      expect(page.tableRows).toBe(5);
      expect(page.svgs).toHaveLength(5);
      for (const svg of page.svgs) {
        // Laid out responsively (two charts a row at 1400 px) but keeping the 640 × 240 aspect.
        expect(svg.width).toBeGreaterThan(400);
        expect(svg.height / svg.width).toBeCloseTo(240 / 640, 2);
        expect(svg.bars).toBeGreaterThan(4);
      }
    });

    it('shows the verdict', () => {
      // income and plan drift (2 of 4 features); churn_probability is a prediction.
      expect(page.verdict).toBe(
        'Drift detectedshare_drifted = 50% > threshold 20% · 2 of 4 features drifted; predictions drifted',
      );
    });

    it('logs no console error or exception and fetches nothing but the page itself', () => {
      const events = devtools?.events ?? [];
      const problems = events.filter(
        (e) =>
          e.method === 'Runtime.exceptionThrown' ||
          (e.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(String(e.params?.type))) ||
          (e.method === 'Log.entryAdded' &&
            (e.params?.entry as { level?: string } | undefined)?.level === 'error'),
      );
      const requests = events
        .filter((e) => e.method === 'Network.requestWillBeSent')
        .map((e) => (e.params?.request as { url?: string } | undefined)?.url ?? '');

      expect(problems).toEqual([]);
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);
    });

    it('produces a screenshot with the verdict banner and both bar colours', () => {
      const image = decodePng(screenshot);
      const count = (rgb: number[]) => {
        let hits = 0;
        for (let y = 0; y < image.height; y += 2) {
          for (let x = 0; x < image.width; x += 2) {
            const [r, g, b] = image.rgb(x, y);
            if (r === rgb[0] && g === rgb[1] && b === rgb[2]) hits++;
          }
        }
        return hits;
      };

      expect([image.width, image.height]).toEqual([1400, pageHeight]);
      expect(pageHeight).toBeGreaterThan(1000);
      expect(screenshot.length).toBeGreaterThan(30_000);
      expect(count([0xc0, 0x39, 0x2b])).toBeGreaterThan(2000); // the red "Drift detected" banner
      expect(count([0x4c, 0x78, 0xa8])).toBeGreaterThan(500); // reference bars
      expect(count([0xf5, 0x85, 0x18])).toBeGreaterThan(500); // current bars
    });
  },
);
