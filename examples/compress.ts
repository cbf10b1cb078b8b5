/**
 * The README's programmatic example: compress the bundled photo to 99% of its
 * energy with the same stages the YAML pipelines use. Run: npx tsx examples/compress.ts
 */
import { lastValueFrom } from 'rxjs';
import { stages, type Image } from '../src/index.js';

const { loadImage, normalize, center, svd, truncate, reconstruct, encode } = stages;

export async function compress(path: string, outDir: string) {
  return lastValueFrom(
    loadImage({ path, mode: 'gray' }).pipe(
      normalize<Image>(),
      center<Image>({ mode: 'global' }),
      svd(),
      truncate({ energy: 0.99 }),
      reconstruct<Image>(),
      encode({ path: 'turtle-99.png' }, { ctx: { outDir } }),
    ),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = await compress('data/turtle.JPG', 'out/example');
  console.log(`wrote ${file.path} (${file.bytes} bytes)`);
}
