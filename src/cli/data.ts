/**
 * `svdflow data list` and `svdflow data fetch [NAME ...|all] [--dir DIR] [--base-url URL]`:
 * the third-party data sets that some shipped pipelines read (`data:` paths).
 */
import { parseArgs } from 'node:util';
import { DATASETS, findDataSet, type DataSet } from '../core/data/catalog.js';
import { dataRoots, defaultDataDir, shippedChecksums } from '../core/data/locate.js';
import { DEFAULT_DATA_URL, fetchDataSets, plan } from '../core/data/fetch.js';
import { ProgressRenderer } from '../core/progress.js';
import { CancelledError, SvdflowError, UsageError, suggestion, shownPath } from '../core/errors.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_HELP = `svdflow data: the third-party data sets some pipelines read (written as data:<path> in YAML)

Usage:
  svdflow data list                              each data set, its size, and where it was found
  svdflow data fetch [NAME ...|all] [--dir DIR] [--base-url URL] [--no-progress]
                                                 download and verify (SHA-256) into DIR

  DIR defaults to $SVDFLOW_DATA, else ${defaultDataDir({ ...process.env, SVDFLOW_DATA: '' })}.
  URL defaults to $SVDFLOW_DATA_URL, else ${DEFAULT_DATA_URL}; files are read from
  <URL>/<repository>/<commit>/<path>. A second fetch checks what is there and downloads only what is
  missing; an interrupted one continues its partial file.
  data: paths are looked up in $SVDFLOW_DATA, ../shared/data beside the checkout, then the cache folder.`;

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export async function dataCommand(argv: string[], opts: { signal?: AbortSignal } = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { dir: { type: 'string' }, 'base-url': { type: 'string' }, 'no-progress': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (e) {
    throw new UsageError((e as Error).message.split('.')[0]!, 'see svdflow data --help');
  }
  const [sub = 'help', ...names] = parsed.positionals;
  if (parsed.values.help || sub === 'help') {
    console.log(DATA_HELP);
    return 0;
  }
  const sums = shippedChecksums();
  if (sub === 'list') {
    for (const d of DATASETS) {
      const where = dataRoots().find((r) => d.prefixes.every((p) => existsSync(join(r, p))));
      console.log(`  ${d.name.padEnd(8)} ${mib(plan([d], sums).bytes).padStart(9)}  ${d.summary}\n           ${where ? `found in ${shownPath(where)}` : `absent: svdflow data fetch ${d.name}`}`);
    }
    return 0;
  }
  if (sub !== 'fetch') throw new UsageError(`unknown data command '${sub}'`, `${suggestion(sub, ['list', 'fetch'], 'commands')} (svdflow data --help)`);
  const sets = pickSets(names);
  const dir = parsed.values.dir ?? defaultDataDir();
  const baseUrl = parsed.values['base-url'] ?? process.env.SVDFLOW_DATA_URL ?? DEFAULT_DATA_URL;
  const { files, bytes } = plan(sets, sums);
  console.log(`svdflow data fetch: ${sets.map((s) => s.name).join(', ')} (${files.length} files, ${mib(bytes)}) into ${dir}`);
  const progress = new ProgressRenderer(!parsed.values['no-progress'] && process.stderr.isTTY === true);
  const bar = progress.create('fetch', { total: files.length, unit: 'files' });
  try {
    const r = await fetchDataSets(sets, { dir, sums, baseUrl, signal: opts.signal, onFile: () => bar.tick() });
    bar.done();
    console.log(`✔ ${r.files} files verified (SHA-256): ${r.downloaded} downloaded (${mib(r.bytesDownloaded)}), ${r.present} already there`);
    console.log(`  pipelines find them through data: paths${dir === defaultDataDir() ? '' : `; set SVDFLOW_DATA=${dir} so that they look there`}`);
    return 0;
  } catch (e) {
    progress.stop();
    if (e instanceof CancelledError || opts.signal?.aborted) {
      throw new SvdflowError('download interrupted: the files already verified are kept; run the same command again to continue', { exitCode: 130 });
    }
    throw e;
  }
}

function pickSets(names: string[]): DataSet[] {
  if (!names.length || names.includes('all')) return [...DATASETS];
  return names.map((n) => {
    const d = findDataSet(n);
    if (!d) throw new UsageError(`unknown data set '${n}'`, `${suggestion(n, DATASETS.map((x) => x.name), 'data sets')}; or 'all'`);
    return d;
  });
}

/** The CLI entry: Ctrl-C (or SIGTERM/SIGHUP) stops the downloads and keeps what was verified. */
export async function dataMain(argv: string[]): Promise<number> {
  const ac = new AbortController();
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (sig: NodeJS.Signals) => ac.abort(sig);
  for (const s of signals) process.on(s, onSignal);
  try {
    return await dataCommand(argv, { signal: ac.signal });
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
