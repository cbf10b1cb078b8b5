/**
 * The demo's report pages in a real browser: Debian's Chromium (/usr/bin/chromium, or
 * $SVDFLOW_CHROMIUM) driven by playwright-core (no browser download). `svdflow demo`
 * writes every report and out/index.html into a temp folder; each page must load with
 * no console error and no failed request, touch nothing outside its run's folder, show
 * every image (naturalWidth > 0) and be able to play every video (readyState >= 2).
 * A screenshot of each page goes to out/screenshots/ (or $SVDFLOW_SCREENSHOTS).
 *
 * Without a Chromium the tests are skipped locally with a message naming what is missing;
 * in CI (CI=true) a missing browser is a failure (.ci/run installs the `chromium` package).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { CLI, ROOT, tempDir } from '../helpers.js';

const CANDIDATES = [process.env.SVDFLOW_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((x): x is string => !!x);
/** The few DOM properties read in the page (the project's tsconfig has no DOM lib). */
interface ImgEl { complete: boolean; naturalWidth: number }
interface VideoEl { readyState: number; currentSrc: string; error: { code: number; message: string } | null; addEventListener(type: string, f: () => void, o?: { once: boolean }): void }

const BROWSER = CANDIDATES.find((p) => existsSync(p));
const CI = process.env.CI === 'true';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = resolve(process.env.SVDFLOW_SCREENSHOTS ?? join(ROOT, 'out', 'screenshots'));
const MISSING = `no Chromium found (looked for ${CANDIDATES.join(', ')}): install the Debian package with \`apt-get install chromium\`, or set SVDFLOW_CHROMIUM to a Chromium binary`;

if (!BROWSER && !CI) console.warn(`test/browser/reports.test.ts skipped: ${MISSING}`);

describe.runIf(BROWSER || CI)('report pages in Chromium', () => {
  const tmp = tempDir('svdflow-reports-');
  let ctx: BrowserContext;
  let profile: string;
  beforeAll(async () => {
    if (!BROWSER) throw new Error(MISSING);
    const r = spawnSync(process.execPath, [CLI, 'demo', '--out', tmp.dir], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`index.html`);
    profile = mkdtempSync(join(tmpdir(), 'svdflow-chromium-profile-'));
    ctx = await chromium.launchPersistentContext(profile, { executablePath: BROWSER, headless: true, args: FLAGS, viewport: { width: 1200, height: 900 } });
    mkdirSync(SHOTS, { recursive: true });
  }, 600_000);
  afterAll(async () => {
    await ctx?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    tmp.cleanup();
  });

  /** Opens a page, collects console errors and failed or outside requests, and checks images and videos. */
  async function check(rel: string, shot: string): Promise<{ images: number; videos: number; text: string }> {
    const page = await ctx.newPage();
    const problems: string[] = [];
    const base = pathToFileURL(tmp.dir).href;
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()} (${r.failure()?.errorText})`));
    page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`request outside the run folder: ${r.url()}`); });
    try {
      const resp = await page.goto(pathToFileURL(join(tmp.dir, rel)).href, { waitUntil: 'load' });
      expect(resp === null || resp.ok()).toBe(true);
      const images = await page.$$eval('img', (els) => els.map((e) => ({ src: e.getAttribute('src'), ok: (e as unknown as ImgEl).complete && (e as unknown as ImgEl).naturalWidth > 0 })));
      expect(images.filter((i) => !i.ok), `images that did not load in ${rel}`).toEqual([]);
      // every video can play: wait (up to 15 s) until each has its current frame decoded
      const videos = await page.$$('video');
      for (const v of videos) {
        const state = await v.evaluate((node) => {
          const el = node as unknown as VideoEl;
          return new Promise<{ readyState: number; src: string; error: string | null }>((res) => {
          const done = () => res({ readyState: el.readyState, src: el.currentSrc, error: el.error ? `${el.error.code} ${el.error.message}` : null });
          if (el.readyState >= 2) return done();
          el.addEventListener('loadeddata', done, { once: true });
          el.addEventListener('error', done, { once: true });
          setTimeout(done, 15_000);
        });
        });
        expect(state, `video ${state.src} in ${rel}`).toMatchObject({ readyState: expect.any(Number) });
        expect(state.readyState, `video ${state.src} in ${rel}: ${state.error}`).toBeGreaterThanOrEqual(2);
      }
      await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
      expect(problems, `problems on ${rel}`).toEqual([]);
      // no sideways scrolling at 1100 px (long params JSON and paths wrap: the trial's video report scrolled)
      await page.setViewportSize({ width: 1100, height: 900 });
      const widths = await page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]') as [number, number];
      expect(widths[0], `${rel} is ${widths[0]} px wide in a ${widths[1]} px window`).toBeLessThanOrEqual(widths[1]);
      return { images: images.length, videos: videos.length, text: await page.innerText('body') };
    } finally {
      await page.close();
    }
  }

  it('out/index.html links every report of the demo, and each link opens', async () => {
    const html = readFileSync(join(tmp.dir, 'index.html'), 'utf8');
    const links = [...html.matchAll(/href="([^"]+\/report\.html)"/g)].map((m) => m[1]!);
    expect(links.sort()).toEqual(['icp-any-angle/report.html', 'icp/report.html', 'image-compress/report.html', 'procrustes/report.html', 'stamps-pca/report.html', 'video-background/report.html', 'video-live/report.html']);
    for (const l of links) expect(existsSync(join(tmp.dir, l)), l).toBe(true);
    const r = await check('index.html', 'index.png');
    expect(r.text).toContain('video-background');
  });

  const expected: Record<string, { images: number; videos: number; says: string[] }> = {
    'image-compress': { images: 3, videos: 0, says: ['relative error', 'PSNR', 'rank k'] },
    'stamps-pca': { images: 8, videos: 0, says: ['variance of PC1', 'components for 90%'] },
    procrustes: { images: 3, videos: 0, says: ['rotation', '-34.000°', 'inlier RMSE'] },
    icp: { images: 4, videos: 0, says: ['rotation', 'converged'] },
    'icp-any-angle': { images: 4, videos: 0, says: ['confident', 'final stage: icp level 3'] },
    'video-background': { images: 2, videos: 3, says: ['F-measure', 'precision', 'recall', 'mean foreground', 'objects per frame'] },
    // the bundled clip's 120 frames in live segments of 40: 3 mask and 3 background segment videos
    'video-live': { images: 0, videos: 6, says: ['mask-00000.mp4', 'background-00002.mp4'] },
  };
  for (const [name, want] of Object.entries(expected)) {
    it(`${name}/report.html: headline results, every image shown, every video playable, no console error or failed request`, async () => {
      const r = await check(`${name}/report.html`, `${name}.png`);
      expect(r.images).toBeGreaterThanOrEqual(want.images);
      expect(r.videos).toBe(want.videos);
      for (const s of want.says) expect(r.text).toContain(s);
      expect(r.text).toContain('Steps: params and timings');
    });
  }

  it('svdflow report DIR rebuilds the page of a finished run', async () => {
    const dir = join(tmp.dir, 'procrustes');
    rmSync(join(dir, 'report.html'));
    const r = spawnSync(process.execPath, [CLI, 'report', dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    await check('procrustes/report.html', 'procrustes-rebuilt.png');
    const bad = spawnSync(process.execPath, [CLI, 'report', tmp.dir], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('has no run.json');
  });
});
