import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild } from '../../scripts/build-web.ts';
import type { Db } from '../catalog/db.ts';
import { productPhoto } from '../finetune/testing.ts';
import { ReviewService } from '../quality/review/service.ts';
import { startTestServer, type TestServer } from './test-support.ts';

/** Debian's Chromium (installed by the CI script); the suite says it was skipped without it. */
const CHROMIUM = process.env.PIXEL_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = join(ROOT, 'docs', 'screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** expect.poll with room for a loaded machine (2 shared cores): the default gives up after 1 s. */
const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number; interval?: number } = {}) =>
  expect.poll(fn, { timeout: 20_000, ...options });

/** axe-core on the page as it is now: the serious and critical violations (none expected). */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: unknown[] }> } })
      .axe;
    return (await axe.run(document)).violations;
  });
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe.skipIf(!existsSync(CHROMIUM))(`web UI in Chromium (${CHROMIUM})`, { timeout: 90_000 }, () => {
  let server: TestServer;
  let db: Db | undefined;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const marker = `pepper${randomUUID().slice(0, 8)}`;
  const prompt = `a ribeye steak on a slate board, ${marker}`;
  const made: string[] = [];
  let acceptedId = '';
  let acceptedSeed = -1;

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true });
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer({
      deps: {
        http: (_app, ctx) => {
          db = ctx.db;
        },
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    // bypassCSP: the page's policy forbids inline scripts, and axe is injected as one.
    context = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A link of the main navigation. */
  const nav = (name: string) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

  /** A Connect JSON call as the anonymous local caller. */
  async function rpc(method: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${server.url}/pixel.v1.${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  async function shoot(name: string, target: Page = page) {
    await target.evaluate(() => window.scrollTo(0, 0));
    await target.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
  }

  it('signs in as the anonymous local caller', async () => {
    await page.goto(`${server.url}/`);
    await poll(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await shoot('sign-in');
    await page.getByRole('button', { name: /local user/ }).click();
    await poll(() => page.getByTestId('who').textContent()).toContain('team local · member');
  });

  it('shows what the model cannot honour before generating, then generates variations and accepts one', async () => {
    await page.getByLabel('Prompt', { exact: true }).fill(prompt);
    await page.getByLabel('Style').selectOption('studio-product');
    await page.getByLabel('Guidance (cfg)').fill('9');
    await page.getByLabel('Variations (n)').fill('3');
    // The preview, before anything is generated: pixel/sketch has no guidance control.
    const warning = page.getByRole('note', { name: 'What the model cannot honour' });
    await poll(() => warning.textContent()).toContain('cfgScale');
    await poll(() => page.getByText('Native request (3 images)').isVisible()).toBe(true);
    expect(await page.getByRole('region', { name: 'Capabilities of pixel/sketch' }).textContent()).toContain(
      'Negative prompt',
    );

    // Live progress: record every stage line the page shows while it generates.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { stages: string[] }).stages = seen;
      new MutationObserver(() => {
        const text = document.querySelector('.progress-line span')?.textContent;
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Generate 3 variations' }).click();
    const accept = page.getByRole('button', { name: /^Accept variation \d of run 1$/ });
    await poll(() => accept.count(), { timeout: 30_000 }).toBe(3);
    const links = page.getByRole('list', { name: 'Run 1 images' }).locator('a.thumb');
    for (const href of await links.evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''))) {
      made.push(href.replace('/images/', ''));
    }
    expect(made).toHaveLength(3);
    const stages = await page.evaluate(() => (window as unknown as { stages: string[] }).stages);
    expect(stages.some((s) => /^(queued|translating|generating|post-processing|stored): /.test(s))).toBe(
      true,
    );
    for (const id of made) expect(id).toMatch(/^img_[0-9A-Z]{26}$/);

    await page.getByRole('button', { name: 'Accept variation 2 of run 1' }).click();
    const accepted = page.getByRole('button', { name: 'Accepted variation 2 of run 1' });
    await poll(() => accepted.isDisabled()).toBe(true);
    acceptedId = made[1]!;
    // The catalogue recorded it: the image's row says who accepted it and when.
    const res = await fetch(`${server.url}/pixel.v1.ImageService/GetImage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: acceptedId }),
    });
    const image = (await res.json()) as { acceptedAt?: string; prompt: string; seed: number };
    acceptedSeed = image.seed;
    expect(image.prompt).toBe(prompt);
    expect(Date.parse(image.acceptedAt ?? '')).not.toBeNaN();

    // Vary: same prompt, a new seed, a second run.
    await page.getByRole('button', { name: /^Vary variation 1 of run 1/ }).click();
    await poll(() => page.getByRole('button', { name: /^Accept variation \d of run 2$/ }).count(), {
      timeout: 30_000,
    }).toBe(3);
    expect(await seriousViolations(page)).toEqual([]);
    await shoot('playground');
  });

  it('finds the accepted image in the history by ID and by prompt text', async () => {
    // Within one page load the playground keeps its runs while another page is open.
    await nav('History');
    await nav('Playground');
    await poll(() => page.getByRole('list', { name: 'Run 2 images' }).isVisible()).toBe(true);
    await nav('History');
    await page.getByLabel('Image ID').fill(acceptedId);
    await page.getByRole('button', { name: 'Open' }).click();
    await poll(() => page.url()).toBe(`${server.url}/images/${acceptedId}`);
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(acceptedId);
    const lineage = page.getByRole('region', { name: 'Lineage' });
    await poll(() => lineage.textContent()).toContain('accepted');
    expect(await lineage.textContent()).toContain('pixel/sketch');
    expect(await page.getByRole('region', { name: 'Prompt' }).textContent()).toContain(marker);
    expect(await seriousViolations(page)).toEqual([]);

    // A URL per image: a fresh load of it opens the same page.
    await page.goto(`${server.url}/images/${acceptedId}`);
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(acceptedId);

    await nav('History');
    await page.getByLabel('Prompt contains').fill(marker.toUpperCase());
    await page.getByRole('button', { name: 'Search' }).click();
    await poll(() => page.url()).toContain(`q=${marker.toUpperCase()}`);
    const cards = page.getByRole('list', { name: 'Images' }).getByRole('listitem');
    await poll(() => cards.count()).toBe(6);
    await page.getByLabel('Accepted').selectOption('yes');
    await page.getByRole('button', { name: 'Search' }).click();
    await poll(() => cards.count()).toBe(1);
    expect(await cards.first().textContent()).toContain(acceptedId);
    await page.getByLabel('Prompt contains').fill('no-such-words-anywhere');
    await page.getByRole('button', { name: 'Search' }).click();
    await poll(() => cards.count()).toBe(0);
    await page.getByRole('button', { name: 'Clear' }).click();
    await poll(() => cards.count()).toBe(6);
    expect(await seriousViolations(page)).toEqual([]);
    await shoot('history');

    // Regenerate with the same seed, from the image's page.
    await cards.filter({ hasText: acceptedId }).getByRole('link').click();
    await page.getByRole('button', { name: 'Regenerate (same seed)' }).click();
    const regenerated = page.getByRole('region', { name: 'Regenerated' });
    await poll(() => regenerated.textContent()).toContain(`(seed ${acceptedSeed})`);
  });

  it('edits an application template twice, diffs the versions and rolls the team label back', async () => {
    await nav('Applications');
    await page
      .getByRole('navigation', { name: 'Applications' })
      .getByRole('link', { name: /Produce/ })
      .click();
    const yaml = page.getByLabel('Profile YAML');
    await poll(() => yaml.inputValue()).toContain('name: produce');
    const original = await yaml.inputValue();
    const status = page.getByRole('status');

    await yaml.fill(original.replace('title: Produce', 'title: Produce (warm light)'));
    await page.getByLabel('Change note').fill('warmer light');
    await page.getByRole('button', { name: 'Save version' }).click();
    await poll(() => status.textContent()).toBe('Saved as version 2, now on team:local.');

    // The page reloads the version it now serves before the next edit.
    await poll(() => page.getByRole('region', { name: 'Produce (warm light)' }).isVisible()).toBe(true);
    await yaml.fill(original.replace('title: Produce', 'title: Produce (cool light)'));
    await page.getByLabel('Change note').fill('cooler light');
    await page.getByRole('button', { name: 'Save version' }).click();
    await poll(() => status.textContent()).toBe('Saved as version 3, now on team:local.');
    await poll(() => page.getByRole('region', { name: 'Produce (cool light)' }).isVisible()).toBe(true);

    await page.getByLabel('Diff from').selectOption('2');
    await page.getByLabel('to', { exact: true }).selectOption('3');
    await page.getByRole('button', { name: 'Show diff' }).click();
    const diff = page.getByLabel('Diff', { exact: true });
    await poll(() => diff.textContent()).toContain('+title: Produce (cool light)');
    expect(await diff.textContent()).toContain('-title: Produce (warm light)');

    await page.getByRole('button', { name: 'Roll back team:local' }).click();
    await poll(() => status.textContent()).toBe('team:local rolled back from v3 to v2.');
    await poll(() => yaml.inputValue()).toContain('title: Produce (warm light)');
    await poll(() => page.getByRole('region', { name: 'Audit log' }).textContent()).toContain('rollback');
    expect(await seriousViolations(page)).toEqual([]);
    await shoot('applications');
  });

  it('generates from an application with its item variables as a form', async () => {
    await nav('Playground');
    await page.getByLabel('An application').check();
    await page.getByLabel('Application', { exact: true }).selectOption('produce');
    await page.getByLabel('Model', { exact: true }).selectOption('pixel/sketch');
    await page.getByLabel(/^item/).fill('green apple');
    await page.getByLabel('Variations (n)').fill('1');
    await page.getByLabel(/^Quality gate/).check();
    const rendered = page.getByRole('region', { name: 'Before you generate' });
    await poll(() => rendered.textContent()).toContain('green apple');
    expect(await rendered.textContent()).toContain('produce v2 (team:local)');
    await page.getByRole('button', { name: 'Generate 1 variation' }).click();
    // The history test loaded an image's URL afresh, so this playground starts again at run 1 (within one
    // page load it keeps its form and runs while other pages are open).
    await poll(() => page.getByRole('button', { name: /^Accept variation 1 of run 1$/ }).count(), {
      timeout: 30_000,
    }).toBe(1);
    // The gate ran (pixel/inspect offline): its rounds with the judge's answer per question.
    const gate = page.getByRole('region', { name: 'Quality gate' });
    await poll(() => gate.textContent()).toMatch(/Round 1: /);
    // The verdict's round is open.
    await poll(() =>
      gate.getByRole('region', { name: 'Answers of round 1' }).locator('tbody tr').count(),
    ).toBeGreaterThan(0);
    expect(await seriousViolations(page)).toEqual([]);
    // The gated image's page shows the stored evaluation: the judge's answer per question.
    await page.getByRole('list', { name: 'Run 1 images' }).locator('a.thumb').first().click();
    const stored = page.getByRole('region', { name: 'Quality gate' });
    await poll(() =>
      stored.getByRole('region', { name: 'Judge answers' }).locator('tbody tr').count(),
    ).toBeGreaterThan(0);
    expect(await stored.textContent()).toContain('pixel/inspect');
  });

  it('compares two images side by side and with the A/B slider, and shows an experiment', async () => {
    await rpc('BatchService/ImportDataset', {
      name: 'fruit',
      format: 'jsonl',
      content: '{"vars":{"item":"pear"}}\n{"vars":{"item":"plum","count":"two"}}\n',
    });
    const run = (await rpc('BatchService/StartExperiment', {
      dataset: 'fruit',
      application: 'produce',
      candidates: [{ model: 'pixel/sketch' }, { model: 'pixel/sketch', overrides: { style: 'line-art' } }],
    })) as { id: string };
    await poll(async () => ((await rpc('BatchService/GetRun', { id: run.id })) as { state: string }).state, {
      timeout: 60_000,
      interval: 250,
    }).toBe('done');

    await page.goto(`${server.url}/compare?a=${made[0]}&b=${made[1]}`);
    await poll(() => page.getByRole('heading', { name: `A: ${made[0]}` }).isVisible()).toBe(true);
    expect(await page.getByRole('heading', { name: `B: ${made[1]}` }).isVisible()).toBe(true);
    await page.getByLabel(/^Show A up to/).fill('30');
    await poll(() => page.getByText('Show A up to 30% of the width').isVisible()).toBe(true);
    const clip = await page.locator('img.ab-top').evaluate((img) => (img as HTMLElement).style.clipPath);
    expect(clip).toBe('inset(0px 70% 0px 0px)');
    const candidates = page.getByRole('region', { name: 'Candidates' }).locator('tbody tr');
    await poll(() => candidates.count()).toBe(2);
    expect(await page.getByRole('region', { name: 'Candidates' }).textContent()).toContain(
      '"style":"line-art"',
    );
    expect(await page.getByRole('note', { name: 'Recommendation' }).textContent()).toContain('Recommended');
    // The grid: items × candidates, each cell with its image, state, verdict, cost and latency.
    const grid = page.getByRole('region', { name: 'Experiment grid' });
    await poll(() => grid.locator('tbody tr').count()).toBe(2);
    expect(await grid.locator('thead th').count()).toBe(3);
    await poll(() => grid.locator('tbody img').count()).toBe(4);
    expect(await grid.locator('tbody tr').first().textContent()).toContain('item=pear');
    expect(await grid.locator('tbody tr').nth(1).textContent()).toContain('count=two');
    expect(await grid.getByText('done', { exact: true }).count()).toBe(4);
    expect(await grid.textContent()).toMatch(/\d+ ms/);
    // Two of its images into the A/B comparison.
    const cellImage = (item: number, candidate: number) =>
      grid.getByRole('img', { name: new RegExp(`^item ${item}, candidate ${candidate}: `) });
    await page.getByRole('button', { name: 'Compare item 1, candidate 1 as A' }).click();
    await page.getByRole('button', { name: 'Compare item 1, candidate 2 as B' }).click();
    const pickedA = (await cellImage(1, 1).locator('..').getAttribute('href'))!.replace('/images/', '');
    const pickedB = (await cellImage(1, 2).locator('..').getAttribute('href'))!.replace('/images/', '');
    await poll(() => page.url()).toBe(`${server.url}/compare?a=${pickedA}&b=${pickedB}`);
    await poll(() => page.getByRole('heading', { name: `B: ${pickedB}` }).isVisible()).toBe(true);
    expect(await page.getByRole('heading', { name: `A: ${pickedA}` }).isVisible()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await shoot('compare');

    // A bigger grid comes a page at a time (`?cells=N` sets the page; 300 by default).
    await page.goto(`${server.url}/compare?cells=3`);
    const paged = page.getByRole('region', { name: 'Experiment grid' });
    await poll(() => paged.locator('tbody img').count()).toBe(3);
    expect(await page.getByText('The first 3 of 4 cells.').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Show 1 more cell' }).click();
    await poll(() => paged.locator('tbody img').count()).toBe(4);
    expect(await page.getByText(/The first \d+ of 4 cells/).count()).toBe(0);
    expect(await page.getByRole('button', { name: /more cell/ }).count()).toBe(0);
  });

  it('reviews the queue with the keyboard: reason tag, rating, approve, reject', async () => {
    const registered = await fetch(`${server.url}/pixel.v1.ReviewService/ListReviewQueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    if (registered.status === 404) {
      // A server without the review service: the page says so instead.
      await nav('Review');
      await poll(() => page.getByRole('heading', { name: 'Not built yet' }).isVisible()).toBe(true);
      return;
    }
    const reviews = new ReviewService(db!);
    await reviews.enqueue(made[0]!, { app: 'produce', team: 'local', reason: 'passed' });
    await reviews.enqueue(made[2]!, { app: 'produce', team: 'local', reason: 'failed-sample' });
    // The gated image of the application run, and another reviewer who disagrees with the gate about it.
    const [gated] = await db!.query<{ image_id: string; passed: boolean }>(
      "SELECT image_id, passed FROM quality_verdicts WHERE team = 'local' ORDER BY created_at LIMIT 1",
    );
    expect(gated).toBeDefined();
    await reviews.enqueue(gated!.image_id, { app: 'produce', team: 'local', reason: 'all' });
    await reviews.review(
      { team: 'local', role: 'member', name: 'dana' },
      { imageId: gated!.image_id, verdict: gated!.passed ? 'reject' : 'approve', reasons: ['wrong-item'] },
    );
    await nav('Review');
    // The queue holds these, whatever the gated run above queued; the disagreement first, then oldest first.
    const position = page.locator('figcaption', { hasText: /^\d+ of \d+ ·/ });
    await poll(() => position.count()).toBe(1);
    const total = Number(/of (\d+)/.exec((await position.textContent()) ?? '')![1]);
    expect(total).toBeGreaterThanOrEqual(3);
    const currentId = async () => (await position.getByRole('link').textContent()) ?? '';
    const first = await currentId();
    expect(first).toBe(gated!.image_id);
    expect(await position.textContent()).toContain('disagreement');
    expect(await page.getByRole('note', { name: 'Disagreement' }).textContent()).toContain(
      gated!.passed
        ? 'the gate passed it, a reviewer rejected it'
        : 'the gate failed it, a reviewer approved it',
    );
    expect(await page.getByTestId('disputed').textContent()).toBe(
      `1 of ${total} waiting item has a disagreement.`,
    );
    // The judge's answer per question next to the image.
    await poll(() =>
      page.getByRole('region', { name: 'Judge answers' }).locator('tbody tr').count(),
    ).toBeGreaterThan(0);
    await page.getByLabel('background').check();
    await page.keyboard.press('4');
    await poll(() => page.getByRole('radio', { name: '4' }).isChecked()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await shoot('review');
    await page.keyboard.press('a');
    await poll(() => page.getByText(`Approved ${first}.`).isVisible()).toBe(true);
    const rejected: string[] = [];
    for (let left = total - 1; left > 0; left--) {
      await poll(() => position.textContent()).toMatch(new RegExp(`^1 of ${left} ·`));
      const id = await currentId();
      await page.keyboard.press('r');
      await poll(() => page.getByText(`Rejected ${id}.`).isVisible()).toBe(true);
      rejected.push(id);
    }
    await poll(() => page.getByText('The queue is empty.').isVisible()).toBe(true);
    expect([first, ...rejected]).toEqual(expect.arrayContaining([made[0], made[2]]));
    const rows = await db!.query<{
      image_id: string;
      verdict: string;
      rating: number | null;
      reasons: string[];
    }>(
      "SELECT image_id, verdict, rating, reasons FROM quality_reviews WHERE reviewer <> 'dana' ORDER BY created_at",
    );
    expect(rows.map((r) => [r.image_id, r.verdict, r.rating, r.reasons])).toEqual([
      [first, 'approve', 4, ['background']],
      ...rejected.map((id) => [id, 'reject', null, []]),
    ]);

    // The image's page shows both review verdicts next to the gate's rounds.
    await page.goto(`${server.url}/images/${first}`);
    const verdicts = page.getByRole('region', { name: 'Verdicts by reviewer' });
    await poll(() => verdicts.locator('tbody tr').count()).toBe(2);
    const dana = await verdicts.locator('tbody tr', { hasText: 'dana' }).textContent();
    expect(dana).toContain(gated!.passed ? 'rejected' : 'approved');
    expect(dana).toContain('wrong-item');
    const mine = await verdicts.locator('tbody tr', { hasNotText: 'dana' }).textContent();
    expect(mine).toContain('approved');
    expect(mine).toContain('background');
    expect(mine).toContain('4');
    expect(await seriousViolations(page)).toEqual([]);
    await shoot('image-detail');
  });

  it('shows usage per team, application and model', async () => {
    await nav('Usage');
    const totals = page.getByRole('region', { name: 'Totals' });
    await poll(() => totals.textContent()).toContain('Images');
    const rows = page.getByRole('region', { name: 'Usage by team, application and model' });
    await poll(() => rows.textContent()).toContain('pixel/sketch');
    expect(await rows.textContent()).toContain('produce');
    expect(await page.getByRole('region', { name: 'Usage by run' }).textContent()).toContain('experiment');
    expect(await seriousViolations(page)).toEqual([]);
    await shoot('usage');
  });

  it('fine-tunes from the page: uploads a dataset, trains on sketch with live progress, evaluates, promotes, cancels', {
    timeout: 240_000,
  }, async () => {
    await nav('Fine-tunes');
    await poll(() => page.getByText('No datasets yet: create one below.').isVisible()).toBe(true);
    await page.getByLabel('Dataset name').fill('ube-cakes');
    await page.getByLabel('Category').fill('bakery');
    // From the catalogue: the history test accepted one image with this prompt, and a dataset needs three.
    await page.getByLabel('Accepted catalogue images').check();
    await page.getByLabel('Prompt contains').fill(marker);
    await page.getByRole('button', { name: 'Create dataset' }).click();
    await poll(() => page.getByRole('alert').textContent()).toContain(
      'the catalogue has 1 accepted image(s) of team local',
    );
    expect(await page.getByRole('alert').textContent()).toContain('a dataset needs at least 3');
    await page.getByLabel('Uploaded files').check();
    const photos = await Promise.all(
      [0, 1, 2, 3, 4].map(async (variant) => ({
        name: `ube-${variant + 1}.png`,
        mimeType: 'image/png',
        buffer: Buffer.from(await productPhoto({ variant })),
      })),
    );
    await page.getByLabel(/^Product photos/).setInputFiles(photos);
    await page.getByRole('button', { name: 'Create dataset' }).click();
    await poll(() => page.getByText('Dataset ube-cakes created with 5 images.').isVisible()).toBe(true);
    const datasets = page.getByRole('region', { name: 'Dataset list' });
    await poll(() => datasets.locator('tbody tr').count()).toBe(1);
    expect(await datasets.textContent()).toContain('upload');

    // Every state and percentage the jobs table shows while the job runs.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { ftSeen: string[] }).ftSeen = seen;
      new MutationObserver(() => {
        const row = document.querySelector('[aria-label="Fine-tune jobs"] tbody tr');
        const text = row
          ? `${row.querySelector('.badge')?.textContent} ${row.querySelector('td progress + span')?.textContent}`
          : '';
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByLabel(/^Class noun/).fill('ube cake');
    await page.getByRole('button', { name: 'Start fine-tune' }).click();
    await poll(() => page.getByText('Started ft/ube-cakes/v1 (sketch).').isVisible()).toBe(true);
    const jobs = page.getByRole('region', { name: 'Fine-tune jobs' });
    const v1 = page.getByRole('article', { name: /^ft\/ube-cakes\/v1 / });
    await poll(() => v1.textContent(), { timeout: 90_000, interval: 500 }).toContain(
      'promoted: serves ft/ube-cakes',
    );
    const seen = await page.evaluate(() => (window as unknown as { ftSeen: string[] }).ftSeen);
    expect(seen.at(-1)).toBe('succeeded 100%');
    expect(await v1.textContent()).toContain('Passed:');
    expect(
      await v1.getByRole('region', { name: 'Evaluation of ft/ube-cakes/v1' }).locator('tbody tr').count(),
    ).toBeGreaterThan(0);
    expect(await jobs.textContent()).toContain('pixel/sketch');

    // A second version takes over ft/ube-cakes; promote v1 back from the page.
    await page.getByRole('button', { name: 'Start fine-tune' }).click();
    await poll(() => page.getByText('Started ft/ube-cakes/v2 (sketch).').isVisible()).toBe(true);
    const v2 = page.getByRole('article', { name: /^ft\/ube-cakes\/v2 / });
    await poll(() => v2.textContent(), { timeout: 90_000, interval: 500 }).toContain(
      'promoted: serves ft/ube-cakes',
    );
    await v1.getByRole('button', { name: 'Promote ft/ube-cakes/v1' }).click();
    await poll(() =>
      page.getByText('Promoted ft/ube-cakes/v1: it now serves ft/ube-cakes.').isVisible(),
    ).toBe(true);
    await poll(() => v1.textContent()).toContain('promoted: serves ft/ube-cakes');
    await poll(() => v2.textContent()).toContain('not promoted');
    const served = (await rpc('FinetuneService/ListFinetunes', {})) as {
      finetunes: { version: number; promoted?: boolean }[];
    };
    expect(served.finetunes.filter((f) => f.promoted).map((f) => f.version)).toEqual([1]);

    // A third one, long enough (100,000 steps, 250 a look) to watch: its progress rises on the page while it
    // trains, then it is cancelled from the page before it finishes.
    await page.getByLabel(/^Steps/).fill('100000');
    await page.getByRole('button', { name: 'Start fine-tune' }).click();
    await poll(() => page.getByText('Started ft/ube-cakes/v3 (sketch).').isVisible()).toBe(true);
    const v3row = jobs.locator('tbody tr', { hasText: 'ft/ube-cakes/v3' });
    const percent = async () => {
      const state = await v3row.locator('.badge').textContent();
      const shown = await v3row.locator('progress + span').textContent();
      return state === 'training' ? Number.parseInt(shown ?? '', 10) : -1;
    };
    await poll(percent, { timeout: 60_000, interval: 200 }).toBeGreaterThan(0);
    const first = await percent();
    expect(first).toBeLessThan(100);
    await poll(percent, { timeout: 60_000, interval: 200 }).toBeGreaterThan(first);
    await jobs.getByRole('button', { name: 'Cancel ft/ube-cakes/v3' }).click();
    await poll(() =>
      page
        .getByText(
          /^(Cancelled ft\/ube-cakes\/v3\.|Asked ft\/ube-cakes\/v3 to stop \(it is (queued|training|evaluating)\)\.)$/,
        )
        .isVisible(),
    ).toBe(true);
    await poll(() => v3row.locator('.badge').textContent(), { timeout: 60_000 }).toBe('cancelled');
    expect(await seriousViolations(page)).toEqual([]);
    await shoot('fine-tunes');

    // Importing a LoRA trained elsewhere asks for the LoRA instead of steps; the server's refusal is shown.
    await page.getByLabel('Backend').selectOption('import');
    expect(await page.getByLabel(/^Steps/).count()).toBe(0);
    await page.getByLabel('Base model').fill('fal/fal-ai/flux/dev');
    await page.getByLabel(/^LoRA/).fill('not-a-url');
    await page.getByRole('button', { name: 'Start fine-tune' }).click();
    await poll(() =>
      page.getByRole('alert').filter({ hasText: 'the URL of its safetensors file' }).count(),
    ).toBe(1);

    // A trained version opens in the playground, ready to generate with.
    await v1.getByRole('link', { name: 'Try ft/ube-cakes/v1 in the playground' }).click();
    await poll(() => page.getByLabel('Model', { exact: true }).inputValue()).toBe('ft/ube-cakes/v1');
  });

  it('every page passes axe at 1280×800 and 390×844', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize(PHONE);
    try {
      // Sign-in lasts for a browser tab: this new tab signs in again.
      await phone.goto(`${server.url}/`);
      await phone.getByRole('button', { name: /local user/ }).click();
      await poll(() => phone.getByLabel('Prompt', { exact: true }).isVisible()).toBe(true);
      for (const path of [
        '/',
        '/history',
        `/images/${acceptedId}`,
        '/apps/produce',
        `/compare?a=${made[0]}&b=${made[1]}`,
        '/review',
        '/fine-tunes',
      ]) {
        await phone.goto(`${server.url}${path}`);
        await poll(() => phone.getByRole('heading', { level: 1 }).count()).toBe(1);
        await phone.waitForLoadState('networkidle');
        expect(await seriousViolations(phone), path).toEqual([]);
        // Usable on a phone: nothing wider than the screen.
        const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, path).toBeLessThanOrEqual(0);
      }
      await phone.goto(`${server.url}/`);
      await poll(() => phone.getByLabel('Prompt', { exact: true }).isVisible()).toBe(true);
      await shoot('playground-phone', phone);
      await phone.goto(`${server.url}/history`);
      await poll(() =>
        phone.getByRole('list', { name: 'Images' }).getByRole('listitem').count(),
      ).toBeGreaterThan(0);
      await shoot('history-phone', phone);
    } finally {
      await phone.close();
    }
  });
});
