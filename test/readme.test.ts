/**
 * The README's claims checked against the code: the dependency table against package.json,
 * the log levels against the CLI, and "numeric code is pure" against the imports of src/core's job folders.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './helpers.js';
import { LOG_LEVELS } from '../src/core/logging.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function section(title: string): string {
  const i = README.indexOf(`## ${title}\n`);
  expect(i, `README section ${title}`).toBeGreaterThanOrEqual(0);
  const j = README.indexOf('\n## ', i + 3);
  return README.slice(i, j < 0 ? undefined : j);
}

describe('README claims', () => {
  it('the dependency table names every dependency, and marks exactly the devDependencies it names as dev', () => {
    const rows = section('Dependencies').split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| package'));
    const named = (row: string) => [...row.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const all = rows.flatMap(named);
    const dev = rows.filter((r) => /^\|\s*dev:/.test(r)).flatMap(named);
    const missing = Object.keys(pkg.dependencies).filter((d) => !all.includes(d));
    expect(missing, 'runtime dependencies without a row in the README (say why it is needed)').toEqual([]);
    for (const d of dev) expect(Object.keys(pkg.devDependencies), `${d} is listed as dev in the README`).toContain(d);
    for (const d of all.filter((x) => !dev.includes(x) && x in pkg.devDependencies)) expect.fail(`${d} is a devDependency but the README lists it without dev:`);
    expect(Object.keys(pkg.dependencies)).not.toContain('ml-matrix');
  });

  it('the --log-level row lists the levels the CLI accepts, warn as the default', () => {
    const row = README.split('\n').find((l) => l.startsWith('| `--log-level L`'))!;
    expect([...row.split('|')[2]!.matchAll(/`([a-z]+)`/g)].map((m) => m[1]).sort()).toEqual([...LOG_LEVELS].sort());
    expect(row).toMatch(/`warn` \(the default/);
  });

  it("src/core's job folders are pure except the I/O modules the README names", () => {
    const layout = section('Layout');
    const bullet = layout.slice(layout.indexOf('- `src/core/{image,pca,points,video,plot}/`'), layout.indexOf('- `src/stages/'));
    const io = [...bullet.matchAll(/`((?:image|pca|points|video|plot)\/[\w/.-]+(?:\.ts|\/))`/g)].map((m) => m[1]!);
    expect(io.length).toBeGreaterThan(3);
    const isIo = (f: string) => io.some((x) => (x.endsWith('/') ? f.startsWith(x) : f === x));
    const IMPURE = /from ['"](node:)?(fs|fs\/promises|child_process|net|http|https|worker_threads|sharp)['"]|\bprocess\.(stdout|stderr|stdin|exit)/;
    const files: string[] = [];
    const walk = (d: string) => { for (const n of readdirSync(d)) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else if (p.endsWith('.ts')) files.push(p); } };
    for (const d of ['image', 'pca', 'points', 'video', 'plot']) walk(join(ROOT, 'src', 'core', d));
    const core = join(ROOT, 'src', 'core');
    const impure = files.map((f) => relative(core, f)).filter((f) => !isIo(f) && IMPURE.test(readFileSync(join(core, f), 'utf8')));
    expect(impure, 'modules doing I/O that the README (Layout) does not list as I/O modules: list them there or move the I/O out').toEqual([]);
    for (const f of io) expect(files.map((x) => relative(core, x)).some((x) => (f.endsWith('/') ? x.startsWith(f) : x === f)), `README names ${f}`).toBe(true);
  });
});
