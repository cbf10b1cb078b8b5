/**
 * `svdflow data fetch` against a local HTTP server on 127.0.0.1 that serves ../shared/data in
 * the <repo>/<commit>/<path> layout of the public sources: files verified by SHA-256, a
 * checksum mismatch refused with nothing half-written, an interrupted download continued
 * with a Range request, a second fetch downloading nothing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DATASETS, filesOf, findDataSet, dataSetOf } from '../../../src/core/data/catalog.js';
import { shippedChecksums, locateData, defaultDataDir, resolveInputPath, missingDataHint } from '../../../src/core/data/locate.js';
import { fetchDataSets } from '../../../src/core/data/fetch.js';
import { InputError } from '../../../src/core/errors.js';
import { SHARED, hasShared, sharedMissingMessage, tempDir, CLI, ROOT } from '../../helpers.js';

const sums = shippedChecksums();

interface Behaviour {
  corrupt?: string; // local path whose bytes are altered
  cutAfter?: { path: string; bytes: number }; // first request of this path ends after N bytes
}

function startServer(b: Behaviour): Promise<{ url: string; server: Server; requests: { path: string; range?: string }[] }> {
  const byUrl = new Map<string, string>();
  for (const d of DATASETS) for (const f of filesOf(d, sums)) if (f.source) byUrl.set(`/${f.source.repo}/${f.source.commit}/${encodeURI(f.source.path)}`, f.path);
  const requests: { path: string; range?: string }[] = [];
  let cut = false;
  const server = createServer((req, res) => {
    const local = byUrl.get(req.url ?? '');
    requests.push({ path: local ?? String(req.url), range: req.headers.range });
    if (!local) return void res.writeHead(404).end('not found');
    const file = join(SHARED, local);
    const size = statSync(file).size;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (b.corrupt === local) {
      const buf = readFileSync(file);
      buf[buf.length >> 1]! ^= 0xff;
      return void res.writeHead(200, { 'content-length': buf.length }).end(buf);
    }
    res.writeHead(m ? 206 : 200, { 'content-length': size - start, ...(m ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}) });
    if (b.cutAfter?.path === local && !cut) {
      cut = true;
      const s = createReadStream(file, { start: 0, end: b.cutAfter.bytes - 1 });
      s.on('data', (c) => res.write(c));
      s.on('end', () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    createReadStream(file, { start }).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, requests })));
}

describe('data catalog', () => {
  it('gives every checksum-listed file a source repository at a pinned commit, or derived content', () => {
    const covered = DATASETS.flatMap((d) => filesOf(d, sums).map((f) => f.path));
    expect(new Set(covered).size).toBe(covered.length);
    expect(covered.sort()).toEqual([...sums.keys()].sort());
    for (const d of DATASETS) for (const f of filesOf(d, sums)) expect(f.source ? /^[0-9a-f]{40}$/.test(f.source.commit) : f.content !== undefined).toBe(true);
  });
  it('maps local paths to their data set and source path', () => {
    expect(dataSetOf('cdnet/highway/input/in000001.jpg')?.name).toBe('highway');
    const f = filesOf(findDataSet('caviar2')!, sums).find((x) => x.path === 'cdnet/CAVIAR2/input/in000007.jpg')!;
    expect(f.source).toEqual({ repo: 'lim-anggun/FgSegNet', commit: '7aa31e2eba2bbe29f4725c040288e0090c453316', path: 'SBI2015_dataset/CAVIAR2/input/in000007.jpg' });
    expect(filesOf(findDataSet('videos')!, sums).find((x) => x.path === 'video/lrslibrary_demo.avi')!.source!.path).toBe('dataset/demo.avi');
  });
});

describe('data: paths', () => {
  it('are looked up in $SVDFLOW_DATA first, and point into the download folder when absent everywhere', () => {
    const t = tempDir();
    try {
      mkdirSync(join(t.dir, 'pointclouds'), { recursive: true });
      writeFileSync(join(t.dir, 'pointclouds', 'bun000.ply'), 'x');
      const env = { ...process.env, SVDFLOW_DATA: t.dir };
      expect(locateData('pointclouds/bun000.ply', env)).toBe(join(t.dir, 'pointclouds', 'bun000.ply'));
      expect(locateData('nowhere/file.txt', env)).toBe(join(t.dir, 'nowhere', 'file.txt'));
      expect(defaultDataDir({ HOME: '/h', XDG_CACHE_HOME: '/c' })).toBe(join('/c', 'svdflow', 'data'));
      expect(resolveInputPath('/base', 'x/y.ply')).toBe('/base/x/y.ply');
      expect(missingDataHint('data:cdnet/highway/groundtruth')).toContain('npx svdflow data fetch highway');
      expect(missingDataHint('relative/path')).toBeUndefined();
    } finally {
      t.cleanup();
    }
  });
});

describe.skipIf(!hasShared)('svdflow data fetch from a local server', () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => (t = tempDir('svdflow-fetch-')));
  afterAll(() => t.cleanup());

  it('downloads a data set, verifies every file, and a second fetch downloads nothing', async () => {
    const s = await startServer({});
    try {
      const dir = join(t.dir, 'ok');
      const r = await fetchDataSets([findDataSet('bunny')!], { dir, sums, baseUrl: s.url });
      expect(r).toMatchObject({ files: 4, downloaded: 4, present: 0 });
      for (const f of ['pointclouds/bun000.ply', 'pointclouds/bun045.ply', 'pointclouds/bun.conf', 'pointclouds/README.stanford.txt']) {
        expect(readFileSync(join(dir, f)).equals(readFileSync(join(SHARED, f)))).toBe(true);
      }
      const before = s.requests.length;
      const again = await fetchDataSets([findDataSet('bunny')!], { dir, sums, baseUrl: s.url });
      expect(again).toMatchObject({ downloaded: 0, present: 4 });
      expect(s.requests.length).toBe(before);
    } finally {
      s.server.close();
    }
  });

  it('refuses a file whose checksum does not match and leaves nothing half-written', async () => {
    const s = await startServer({ corrupt: 'pointclouds/bun045.ply' });
    try {
      const dir = join(t.dir, 'bad');
      const err = await fetchDataSets([findDataSet('bunny')!], { dir, sums, baseUrl: s.url, concurrency: 1 }).catch((e) => e);
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).toMatch(/checksum mismatch for pointclouds\/bun045\.ply: expected SHA-256 [0-9a-f]{64}, got [0-9a-f]{64}; the file was not kept/);
      expect(existsSync(join(dir, 'pointclouds', 'bun045.ply'))).toBe(false);
      expect(readdirSync(join(dir, 'pointclouds')).filter((f) => f.endsWith('.part'))).toEqual([]);
    } finally {
      s.server.close();
    }
  });

  it('continues an interrupted download from its partial file with a Range request', async () => {
    const s = await startServer({ cutAfter: { path: 'pointclouds/bun000.ply', bytes: 1_000_000 } });
    try {
      const dir = join(t.dir, 'resume');
      const set = { ...findDataSet('bunny')!, derived: {} };
      const sub = new Map([...sums].filter(([k]) => k === 'pointclouds/bun000.ply'));
      const err = await fetchDataSets([set], { dir, sums: sub, baseUrl: s.url }).catch((e) => e);
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).toMatch(/download of pointclouds\/bun000\.ply was cut off/);
      const part = join(dir, 'pointclouds', 'bun000.ply.part');
      expect(statSync(part).size).toBe(1_000_000);
      expect(existsSync(join(dir, 'pointclouds', 'bun000.ply'))).toBe(false);
      const r = await fetchDataSets([set], { dir, sums: sub, baseUrl: s.url });
      expect(r.downloaded).toBe(1);
      expect(s.requests.at(-1)).toEqual({ path: 'pointclouds/bun000.ply', range: 'bytes=1000000-' });
      expect(readFileSync(join(dir, 'pointclouds', 'bun000.ply')).equals(readFileSync(join(SHARED, 'pointclouds', 'bun000.ply')))).toBe(true);
      expect(existsSync(part)).toBe(false);
    } finally {
      s.server.close();
    }
  });

  it('works through the CLI, and the pipelines then find the data there', async () => {
    const s = await startServer({});
    try {
      const dir = join(t.dir, 'cli');
      const env = { ...process.env, SVDFLOW_DATA: dir };
      const cmd = (args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((ok) => {
        const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', cwd: ROOT });
        ok({ status: r.status, stdout: r.stdout, stderr: r.stderr });
      });
      // the server answers on this event loop, so the CLI runs asynchronously in a child
      const { spawn } = await import('node:child_process');
      const run = (args: string[]) => new Promise<{ status: number | null; out: string }>((ok) => {
        const c = spawn(process.execPath, [CLI, ...args], { env, cwd: ROOT });
        let out = '';
        c.stdout.on('data', (d) => (out += d));
        c.stderr.on('data', (d) => (out += d));
        c.on('close', (status) => ok({ status, out }));
      });
      const r = await run(['data', 'fetch', 'bunny', '--base-url', s.url]);
      expect(r.status).toBe(0);
      expect(r.out).toContain('4 files verified (SHA-256): 4 downloaded');
      expect(existsSync(join(dir, 'pointclouds', 'bun045.ply'))).toBe(true);
      const bad = await cmd(['data', 'fetch', 'bunnny']);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain("unknown data set 'bunnny'");
      expect(bad.stderr).toContain("did you mean 'bunny'");
      const list = await run(['data', 'list']);
      expect(list.out).toMatch(/bunny[^\n]*\n\s+found in /);
      // a data: path is found in $SVDFLOW_DATA; without it the error says what to fetch
      writeFileSync(join(dir, 'pointclouds', 'extra.txt'), '0 0\n1 0\n0 1\n');
      const yaml = join(dir, 'p.yaml');
      writeFileSync(yaml, 'steps:\n  - stage: load-points\n    params: { path: "data:pointclouds/extra.txt" }\n');
      expect((await cmd(['validate', yaml])).status).toBe(0);
      const without = spawnSync(process.execPath, [CLI, 'validate', yaml], { env: { ...process.env, SVDFLOW_DATA: join(t.dir, 'empty') }, encoding: 'utf8', cwd: ROOT });
      expect(without.status).toBe(2);
      expect(without.stderr).toContain('input file not found');
      expect(without.stderr).toContain('npx svdflow data fetch bunny');
    } finally {
      s.server.close();
    }
  });
});
if (!hasShared) it.skip(sharedMissingMessage(), () => undefined);
