#!/usr/bin/env node
// Runs every bench/*.bench.ts (or those named on the command line) with tsx, then
// assembles bench/RESULTS.md from bench/out/*.json with the machine it ran on.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const dir = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).filter((f) => !only.length || only.some((o) => f.includes(o))).sort();
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], { stdio: 'inherit', cwd: join(dir, '..') });
  if (r.status !== 0) { failed++; console.error(`benchmark ${f} failed (exit ${r.status})`); }
}
const outDir = join(dir, 'out');
const results = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(outDir, f), 'utf8'))) : [];
const fmt = (x) => (typeof x !== 'number' || !Number.isFinite(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));
const py = spawnSync('/usr/bin/python3', ['-c', 'import numpy,scipy;print("numpy",numpy.__version__,"scipy",scipy.__version__)'], { encoding: 'utf8' }).stdout?.trim();
// sections of the previous RESULTS.md whose benchmark did not run this time are kept as they were:
// each states the run it comes from, so `node bench/run.mjs video` refreshes one section only
const previous = existsSync(join(dir, 'RESULTS.md')) ? readFileSync(join(dir, 'RESULTS.md'), 'utf8').split(/\n(?=## )/).slice(1) : [];
const kept = previous.filter((sec) => !results.some((r) => sec.startsWith(`## ${r.title}\n`)));
let md = `# Benchmark results\n\nFrom \`npm run bench\` (or \`node bench/run.mjs NAME\` for one section). Each row measures svdflow and its peer on the same data in the same run; each section says which run (date) it comes from, and its notes the load average.\n\n`;
md += `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; Node ${process.version}; peers: Debian python3 (${py ?? 'n/a'}).\n\n`;
md += `Ratio: for times, svdflow ÷ peer (lower is better); for rates and quality, as stated in the row.\n`;
for (const r of results) {
  md += `\n## ${r.title}\n\nRun ${r.date}.\n\n| case | metric | svdflow | peer | peer value | ratio | goal | met |\n|---|---|---|---|---|---|---|---|\n`;
  for (const row of r.rows) md += `| ${row.case} | ${row.metric} | ${fmt(row.svdflow)} | ${row.peerName} | ${fmt(row.peer)} | ${fmt(row.ratio)}x | ${row.goal ?? ''} | ${row.met === undefined ? '' : row.met ? 'yes' : 'no'} |${row.note ? ' ' + row.note : ''}\n`;
  if (r.notes?.length) md += '\n' + r.notes.map((n) => `- ${n}`).join('\n') + '\n';
}
for (const sec of kept) md += `\n${sec.trimEnd()}\n`;
writeFileSync(join(dir, 'RESULTS.md'), md);
console.log(`\nwrote bench/RESULTS.md (${results.length} sections)`);
process.exit(failed ? 1 : 0);
