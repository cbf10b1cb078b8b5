/**
 * Collection sizes, checked before a run: a folder of images feeds a chain of steps (stack,
 * center, svd, generate, pca-scatter, …) and some of them need a minimum count (a PC1 x PC2
 * grid needs 2 components, so 3 images once the mean is removed). The folder is counted now
 * (`batchSize` of the source stage), each step on the way says what it leaves (`collection`),
 * and every step that needs more than reaches it is reported at once, with the count and the
 * folder, instead of failing at run time one step at a time.
 */
import type { Issue } from './errors.js';
import { SvdflowError } from './errors.js';
import type { ResolvedStep } from './pipeline.js';
import type { CollectionCounts } from './stage.js';

/**
 * The problems of `steps` (in topological order); resolveInput resolves a source's path. A single
 * file (an Image, not a collection: `single`) counts only with `singleFiles`, which the validator
 * sets when the steps mistook it for a collection (its type mismatch): an Image through center
 * { row } and svd is an image's own compression, whose rows are no collection.
 */
export function collectionIssues(steps: readonly ResolvedStep[], resolveInput: (path: string) => string, file: string, singleFiles = false): Issue[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const counts = new Map<string, { c: CollectionCounts; where: string } | undefined>();
  const issues: Issue[] = [];
  const at = (s: ResolvedStep) => ({ loc: { file, line: s.loc.line, col: s.loc.col }, path: `steps[${s.index}] (${s.id})` });
  for (const s of steps) {
    let here: { c: CollectionCounts; where: string } | undefined;
    if (s.def.input === null) {
      try {
        const b = s.def.batchSize?.(s.params as never, resolveInput);
        if (b && (!b.single || singleFiles)) here = { c: { images: b.count, components: b.count }, where: b.where };
      } catch (e) {
        // an empty folder, a glob matching nothing: the source's own error, before the run
        if (!(e instanceof SvdflowError)) throw e;
        issues.push({ ...at(s), message: e.message, hint: e.hint });
      }
    } else {
      const up = s.input ? counts.get(s.input) : undefined;
      if (up && byId.has(s.input!)) here = { c: s.def.collection ? s.def.collection(s.params as never, up.c) : up.c, where: up.where };
      const reaching = up?.c;
      for (const need of reaching && s.def.needs ? s.def.needs(s.params as never) : []) {
        const { images, components } = reaching!;
        const short = (need.images !== undefined && images < need.images) || (need.components !== undefined && components < need.components);
        if (!short) continue;
        const left = components !== images ? ` (${components} component${components === 1 ? '' : 's'} once the mean image is removed)` : '';
        const least = need.images ?? need.components! + (images - components);
        issues.push({
          ...at(s),
          message: `${up!.where} has ${images} image${images === 1 ? '' : 's'}${left}, but step '${s.id}' (${s.stage}) needs ${need.images !== undefined ? `${need.images} images` : `${need.components} component${need.components === 1 ? '' : 's'}`} for ${need.why}`,
          hint: `give ${up!.where.startsWith('file ') ? 'a folder or a glob of ' : ''}at least ${least} images${need.fix ? `, or ${need.fix.replaceAll('{step}', s.id)}` : ''}`,
        });
      }
    }
    counts.set(s.id, here);
  }
  return issues;
}
