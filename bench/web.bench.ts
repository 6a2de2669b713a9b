import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { ensureWebBuild } from '../scripts/build-web.ts';
import { startTestServer } from '../src/server/test-support.ts';
import { WEB_DIST_DIR } from '../src/server/web-ui.ts';
import { type BenchSection, percentile, round } from './types.ts';

const CHROMIUM = process.env.PIXEL_CHROMIUM ?? '/usr/bin/chromium';
const LOADS = 7;

/** The JavaScript and CSS index.html loads first (scripts, module preloads, stylesheets), gzipped. */
function firstLoadBytes(): { js: number; css: number; jsRaw: number } {
  const html = readFileSync(join(WEB_DIST_DIR, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  let js = 0;
  let css = 0;
  let jsRaw = 0;
  for (const ref of new Set(refs)) {
    const body = readFileSync(join(WEB_DIST_DIR, ref));
    const gz = gzipSync(body, { level: 9 }).byteLength;
    if (ref.endsWith('.js')) {
      js += gz;
      jsRaw += body.byteLength;
    } else if (ref.endsWith('.css')) css += gz;
  }
  return { js, css, jsRaw };
}

/**
 * The web UI: first-load JavaScript (gzip) and the time from navigation start to the playground's first
 * render on localhost, in a fresh browser context each time (nothing cached), signed in as the local user.
 */
export async function bench(): Promise<BenchSection> {
  await ensureWebBuild({ quiet: true });
  const size = firstLoadBytes();
  const rows: BenchSection['rows'] = [
    { figure: 'first-load JavaScript, gzip', value: `${round(size.js / 1024, 1)} KB`, floor: '≤ 300 KB' },
    { figure: 'first-load JavaScript, raw', value: `${round(size.jsRaw / 1024, 1)} KB`, floor: '' },
    { figure: 'first-load CSS, gzip', value: `${round(size.css / 1024, 1)} KB`, floor: '' },
  ];
  if (!existsSync(CHROMIUM)) {
    return {
      title: 'web UI',
      rows,
      notes: [`no Chromium at ${CHROMIUM}: time to first render not measured`],
    };
  }
  const server = await startTestServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
  });
  const times: number[] = [];
  try {
    for (let i = 0; i < LOADS + 1; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      // A tab that signed in as the local user before (a reload): the app shows the playground at once.
      await context.addInitScript(() =>
        sessionStorage.setItem(
          'pixel.session',
          JSON.stringify({ team: 'local', role: 'member', anonymous: true }),
        ),
      );
      const page = await context.newPage();
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => performance.getEntriesByName('pixel:playground-rendered').length > 0);
      const ms = await page.evaluate(
        () => performance.getEntriesByName('pixel:playground-rendered')[0]!.startTime,
      );
      if (i > 0) times.push(ms); // the first load warms the server and the browser process up
      await context.close();
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  times.sort((a, b) => a - b);
  rows.push(
    {
      figure: 'playground first render p50 (cold context)',
      value: `${round(percentile(times, 50), 0)} ms`,
      floor: '≤ 1000 ms',
    },
    { figure: 'playground first render max', value: `${round(times.at(-1)!, 0)} ms`, floor: '' },
  );
  return {
    title: 'web UI',
    rows,
    notes: [
      `${LOADS} loads, each in a new browser context (empty cache), from navigation start to the playground's first commit (performance mark), in a tab signed in as the local user (the server confirms the session in parallel)`,
    ],
  };
}
