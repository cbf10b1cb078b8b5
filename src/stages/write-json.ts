/**
 * write-json: writes each incoming value (metrics, alignments, reports) as JSON.
 *
 * ```yaml
 * - stage: write-json
 *   input: report
 *   params: { path: report.json }
 * ```
 */
import { z } from 'zod';
import { concatMap } from 'rxjs';
import { defineStage } from '../core/stage.js';
import { toJsonText } from '../core/json.js';
import { alignmentSummary } from '../core/points/registration.js';
import type { Alignment } from '../core/ports.js';

export const writeJson = defineStage({
  name: 'write-json',
  summary: 'Write each incoming value as a JSON file (matrices as nested lists)',
  input: 'Any',
  output: 'File',
  params: z.strictObject({
    path: z.string().min(1).default('{name}.json').describe('file name under --out; {name} is the value name, {index} its position'),
    pretty: z.boolean().default(true).describe('indent the JSON'),
    points: z.boolean().default(true).describe('an Alignment: include the source, target and aligned point lists; false writes the result without them (transform, fitness, RMSE per iteration, stages: kilobytes for a scan of any size)'),
  }),
  operator: (params, ctx) =>
    concatMap(async (value, index) => {
      const name = (value as { name?: string }).name ?? ctx.stepId;
      const rel = params.path.replaceAll('{name}', name).replaceAll('{index}', String(index));
      const v = !params.points && (value as { kind?: string }).kind === 'Alignment' ? alignmentSummary(value as Alignment) : value;
      return ctx.writeFile(rel, toJsonText(v, params.pretty), { format: 'json', description: jsonLabel((value as { kind: string }).kind, name) });
    }),
});

/** report stages name their metrics {input}-pca / {input}-compression; say that in words */
const METRICS_OF: Record<string, string> = { pca: 'PCA', compression: 'compression' };

/**
 * What a JSON file holds, for the summary and report.html: "PCA metrics: my pca" (a Metrics value
 * named 'my pca-pca'), "compression metrics: tort", else "Alignment: bunny".
 */
export function jsonLabel(kind: string, name: string): string {
  if (kind === 'Metrics') {
    const m = /^(.*)-([a-z]+)$/.exec(name);
    const what = m ? METRICS_OF[m[2]!] : undefined;
    return what ? `${what} metrics: ${m![1]}` : `metrics: ${name}`;
  }
  return `${kind}: ${name}`;
}
