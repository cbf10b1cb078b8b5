/**
 * report.html of one run, as text: the pipeline's description, the headline results,
 * every figure, the videos (playable in the page), score tables, the params and
 * timings of each step and the files written. Self-contained: inline CSS, no script,
 * links relative to the run's folder, nothing fetched from the network. Pure: the
 * caller reads the files and writes the page (report/write.ts).
 */
import type { HeadlineGroup } from '../headline.js';

export interface ManifestFile { path: string; bytes?: number; format?: string; step?: string; description?: string }
export interface ManifestStep { id: string; stage: string; params?: unknown; itemsIn?: number; itemsOut?: number; doneMs?: number; firstOutputMs?: number }
export interface Manifest {
  pipeline: string;
  description?: string;
  file?: string;
  started?: string;
  durationMs?: number;
  peakRssMiB?: number;
  versions?: Record<string, string>;
  variables?: Record<string, unknown>;
  /** what --set changed: a variable (default: the pipeline file's value) or step.param */
  overrides?: Array<{ key: string; value: unknown; default?: unknown }>;
  steps: ManifestStep[];
  files: ManifestFile[];
}

export interface ReportVideo { file: ManifestFile; preview?: string; previewNote?: string }
export interface ReportTable { title: string; file: string; header: string[]; rows: string[][]; more?: number }

export interface ReportData {
  manifest: Manifest;
  headlines: HeadlineGroup[];
  videos: ReportVideo[];
  tables: ReportTable[];
}

export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** A relative link to a file of the run: each path segment URI-encoded (names may hold spaces, %, #). */
export const href = (rel: string): string => rel.split('/').map(encodeURIComponent).join('/');

export function formatBytes(b: number | undefined): string {
  if (b === undefined) return '';
  if (b < 1024) return `${b} B`;
  if (b < 1024 ** 2) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1024 ** 2).toFixed(1)} MiB`;
}

export const CSS = `
body{font:14px/1.45 Helvetica,Arial,sans-serif;color:#222;margin:0;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:16px 24px 48px;background:#fff}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}.meta{color:#555;font-size:13px}p.desc{white-space:pre-wrap}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}td.note{color:#666}.warn{color:#8a4b00}ul.warn{margin:4px 0 10px}
figure{margin:12px 0 20px}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#555;font-size:13px}
.gallery{display:flex;flex-wrap:wrap;gap:6px}.gallery img{height:96px;width:auto;border:1px solid #eee}
video{max-width:100%;background:#000}code,pre{font:12px Menlo,Consolas,monospace}pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;max-width:640px}td code{overflow-wrap:anywhere}.scroll{overflow-x:auto;max-width:100%}
nav a{margin-right:12px}
`;

const IMAGE = /\.(svg|png|jpe?g|webp|gif)$/i;

function figures(files: ManifestFile[]): string {
  const top = files.filter((f) => IMAGE.test(f.path) && !f.path.includes('/'));
  const nested = new Map<string, ManifestFile[]>();
  for (const f of files.filter((x) => IMAGE.test(x.path) && x.path.includes('/'))) {
    const dir = f.path.slice(0, f.path.lastIndexOf('/'));
    nested.set(dir, [...(nested.get(dir) ?? []), f]);
  }
  const parts = top.map((f) => `<figure><a href="${href(f.path)}"><img src="${href(f.path)}" alt="${esc(f.description ?? f.path)}" loading="eager"></a><figcaption><b>${esc(f.path)}</b>${f.description ? `: ${esc(f.description)}` : ''}</figcaption></figure>`);
  for (const [dir, fs] of nested) {
    const shown = fs.slice(0, 24);
    parts.push(`<h3>${esc(dir)}/ (${fs.length} image${fs.length === 1 ? '' : 's'}${fs.length > shown.length ? `, the first ${shown.length} shown` : ''})</h3><div class="gallery">${shown.map((f) => `<a href="${href(f.path)}"><img src="${href(f.path)}" alt="${esc(f.path)}" title="${esc(f.path)}"></a>`).join('')}</div>`);
  }
  return parts.join('\n');
}

function videos(vs: ReportVideo[]): string {
  return vs.map((v) => {
    const src = v.preview ? `<source src="${href(v.preview)}" type="video/webm">` : '';
    const type = /\.mp4$/i.test(v.file.path) ? 'video/mp4' : /\.webm$/i.test(v.file.path) ? 'video/webm' : '';
    const orig = `<source src="${href(v.file.path)}"${type ? ` type="${type}"` : ''}>`;
    return `<figure><video controls muted loop autoplay playsinline preload="auto" width="480">${src}${orig}</video><figcaption><b><a href="${href(v.file.path)}">${esc(v.file.path)}</a></b>${v.file.description ? `: ${esc(v.file.description)}` : ''}${v.previewNote ? ` <span class="meta">(${esc(v.previewNote)})</span>` : ''}</figcaption></figure>`;
  }).join('\n');
}

function headlineTables(groups: HeadlineGroup[]): string {
  if (!groups.length) return '<p class="meta">This run has no recognised headline results; see the files below.</p>';
  const warned = (g: HeadlineGroup) => (g.warnings?.length ? `<p class="warn"><b>Warnings:</b></p><ul class="warn">${g.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '');
  return groups.map((g) => `<h3>${esc(g.title)}</h3><table>${g.items.map((i) => `<tr><th>${esc(i.label)}</th><td class="num">${esc(i.value)}</td><td class="note">${esc(i.note ?? '')}</td></tr>`).join('')}</table>${warned(g)}`).join('\n');
}

function dataTables(ts: ReportTable[]): string {
  return ts.map((t) => `<h3>${esc(t.title)} <span class="meta">(<a href="${href(t.file)}">${esc(t.file)}</a>)</span></h3><div class="scroll"><table><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${t.rows.map((r) => `<tr>${r.map((c) => `<td class="${/^-?[\d.]+(e[-+]?\d+)?$/i.test(c) ? 'num' : ''}">${esc(c)}</td>`).join('')}</tr>`).join('')}</table></div>${t.more ? `<p class="meta">… ${t.more} more rows in the file.</p>` : ''}`).join('\n');
}

function compact(v: unknown): string {
  const s = JSON.stringify(v, (_k, x) => (Array.isArray(x) && x.length > 12 ? `[${x.length} values]` : x));
  return s === undefined || s === '{}' ? '' : s;
}

/**
 * What was run, then the pipeline's description. A description is written for the pipeline's own
 * values ("Default: the bundled tortoise photo … k = 36"); when --set changed some, the page says
 * first what this run used, and labels the description as the pipeline's.
 */
export function describeRun(m: Manifest): string {
  const desc = m.description?.trim();
  const o = m.overrides ?? [];
  if (!o.length) return desc ? `<p class="desc">${esc(desc)}</p>` : '';
  const shown = (v: unknown) => (typeof v === 'string' ? v : compact(v) || JSON.stringify(v));
  const items = o.map((x) => `<li><code>${esc(x.key)}</code> = <code>${esc(shown(x.value))}</code>${x.default !== undefined ? ` <span class="meta">(the pipeline's: <code>${esc(shown(x.default))}</code>)</span>` : ''}</li>`).join('');
  const run = `<p class="desc"><b>This run</b> used the pipeline's values except these, set on the command line (the params of every step, as used, are under <a href="#steps">steps</a>):</p><ul class="desc">${items}</ul>`;
  return desc ? `${run}\n<p class="desc"><b>The pipeline's description</b> (written for its own values, not the ones above):<br>${esc(desc)}</p>` : run;
}

export function reportHtml(d: ReportData): string {
  const m = d.manifest;
  const sec = (ms: number | undefined) => (ms === undefined ? '' : `${(ms / 1000).toFixed(2)} s`);
  const figs = figures(m.files);
  const meta = [
    m.file ? `pipeline file <code>${esc(m.file)}</code>` : '',
    m.started ? `started ${esc(m.started.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}` : '',
    m.durationMs !== undefined ? `took ${sec(m.durationMs)}` : '',
    m.peakRssMiB !== undefined ? `peak RSS ${m.peakRssMiB} MiB` : '',
    m.versions ? Object.entries(m.versions).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(', ') : '',
  ].filter(Boolean).join(' · ');
  const vars = m.variables && Object.keys(m.variables).length ? `<h3>variables</h3><table>${Object.entries(m.variables).map(([k, v]) => `<tr><th>${esc(k)}</th><td><code>${esc(compact(v))}</code></td></tr>`).join('')}</table>` : '';
  const steps = `<table><tr><th>step</th><th>stage</th><th>params</th><th>in</th><th>out</th><th>first output</th><th>done at</th></tr>${m.steps.map((s) => `<tr><td>${esc(s.id)}</td><td>${esc(s.stage)}</td><td><pre>${esc(compact(s.params))}</pre></td><td class="num">${s.itemsIn ?? ''}</td><td class="num">${s.itemsOut ?? ''}</td><td class="num">${sec(s.firstOutputMs)}</td><td class="num">${sec(s.doneMs)}</td></tr>`).join('')}</table>`;
  const files = `<table><tr><th>file</th><th>size</th><th>step</th><th>what</th></tr>${m.files.map((f) => `<tr><td><a href="${href(f.path)}">${esc(f.path)}</a></td><td class="num">${formatBytes(f.bytes)}</td><td>${esc(f.step ?? '')}</td><td>${esc(f.description ?? '')}</td></tr>`).join('')}<tr><td><a href="run.json">run.json</a></td><td></td><td></td><td>the run's manifest: params, timings, files</td></tr></table>`;
  const nav = ['results', figs ? 'figures' : '', d.videos.length ? 'videos' : '', d.tables.length ? 'tables' : '', 'steps', 'files'].filter(Boolean).map((s) => `<a href="#${s}">${s}</a>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(m.pipeline)}: svdflow report</title><style>${CSS}</style></head>
<body><main>
<h1>${esc(m.pipeline)}</h1>
<p class="meta">${meta}</p>
${describeRun(m)}
<nav>${nav}</nav>
<h2 id="results">Headline results</h2>
${headlineTables(d.headlines)}
${figs ? `<h2 id="figures">Figures</h2>\n${figs}` : ''}
${d.videos.length ? `<h2 id="videos">Videos</h2>\n${videos(d.videos)}` : ''}
${d.tables.length ? `<h2 id="tables">Scores and tables</h2>\n${dataTables(d.tables)}` : ''}
<h2 id="steps">Steps: params and timings</h2>
${vars}
${steps}
<h2 id="files">Files</h2>
${files}
</main></body></html>
`;
}

export interface IndexEntry { pipeline: string; description?: string; report?: string; status: string; durationMs?: number; files?: number }

/** out/index.html: one row per pipeline of a demo run, linking its report. */
export function indexHtml(entries: IndexEntry[], title = 'svdflow demo'): string {
  const rows = entries.map((e) => `<tr><td>${e.report ? `<a href="${href(e.report)}">${esc(e.pipeline)}</a>` : esc(e.pipeline)}</td><td>${esc(e.status)}</td><td class="num">${e.durationMs !== undefined ? `${(e.durationMs / 1000).toFixed(1)} s` : ''}</td><td class="num">${e.files ?? ''}</td><td>${esc((e.description ?? '').trim().split(/(?<=\.)\s/)[0] ?? '')}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head>
<body><main><h1>${esc(title)}</h1>
<p class="meta">One report per pipeline: description, headline results, figures, videos, params and timings.</p>
<table><tr><th>pipeline</th><th>status</th><th>time</th><th>files</th><th>what it does</th></tr>${rows}</table>
</main></body></html>
`;
}
