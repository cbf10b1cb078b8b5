/**
 * Helper process of bench/queue.bench.ts (compiled svdflow from dist/), run in the root folder:
 *   node queue-jobs.mjs local PIPELINE OUT INPUT...        the same job once per input, one warm process
 *   node queue-jobs.mjs queue URL PIPELINE OUT INPUT...    one `--each` flow of them through the queue
 * Prints one JSON line: { wallMs, runMs: [durationMs of each run] }. `local` warms up first on the
 * first input (not timed) so that both sides are warm; report.html is not written on either side
 * (queued children write none by default).
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const DIST = resolve(new URL('.', import.meta.url).pathname, '../dist/src');
const D = (m) => import(pathToFileURL(join(DIST, m)).href);
const { defaultRegistry } = await D('stages/index.js');
const { loadPipeline } = await D('core/pipeline.js');
const [mode, ...a] = process.argv.slice(2);
const reg = defaultRegistry();
if (mode === 'local') {
  const [file, out, ...inputs] = a;
  const { runPipeline } = await D('core/runner.js');
  const run = async (v, o) => runPipeline(loadPipeline(file, reg, { set: [`video=${resolve(v)}`] }), { outDir: o, progress: false, report: false, keepValues: 'none' });
  await run(inputs[0], join(out, 'warm-up'));
  const t0 = performance.now();
  const runMs = [];
  for (const [i, v] of inputs.entries()) runMs.push((await run(v, join(out, String(i)))).durationMs);
  console.log(JSON.stringify({ wallMs: performance.now() - t0, runMs }));
} else {
  const [url, file, out, ...inputs] = a;
  const { openQueue, submitFlow, followFlow } = await D('core/queue/submit.js');
  const { planEach } = await D('core/queue/plan.js');
  const client = await openQueue(url);
  const plan = planEach(loadPipeline(file, reg, { set: [] }), { root: process.cwd(), file, set: [], out: resolve(out), each: inputs });
  const t0 = performance.now();
  const { id } = await submitFlow(url, client, plan);
  const r = await followFlow(url, client, id, () => undefined);
  const wallMs = performance.now() - t0;
  await client.close();
  if (r.state !== 'completed') throw new Error(`flow failed: ${JSON.stringify(r.failed)}`);
  console.log(JSON.stringify({ wallMs, runMs: r.result.children.map((c) => c.durationMs) }));
}
process.exit(0);
