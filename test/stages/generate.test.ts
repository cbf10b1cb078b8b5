import { describe, it, expect } from 'vitest';
import { generate } from '../../src/stages/generate.js';
import { knownFactorization, lastValueFrom, of } from './pca-fixtures.js';
import { pcaModel, principalCoordinates, reconstructColumn } from '../../src/core/pca/model.js';

const a = 1 / Math.sqrt(2), b = 1 / Math.sqrt(6);
const pixels = (im: { planes: { data: Float64Array }[] }) => Array.from(im.planes[0]!.data);
const close = (got: number[], want: number[]) => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 12));

describe('generate', () => {
  it('maps coordinates to mean + U c, clamped to the range', async () => {
    const out = await lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'coordinates', coordinates: [[0.1, -0.2], [0.9], [-0.9, 0]] })));
    expect(out.kind).toBe('ImageBatch');
    expect(out.images.map((i) => i.name)).toEqual(['generated_00', 'generated_01', 'generated_02']);
    close(pixels(out.images[0]!), [0.6, 0.3, 0.2, 0.8]);
    close(pixels(out.images[1]!), [1, 0.5, 0.2, 0.8]);
    close(pixels(out.images[2]!), [0, 0.5, 0.2, 0.8]);
    const raw = await lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'coordinates', coordinates: [[0.9]], clamp: false })));
    close(pixels(raw.images[0]!), [1.4, 0.5, 0.2, 0.8]);
  });

  it("at an image's coordinates gives its reconstruction", async () => {
    const f = knownFactorization();
    const m = pcaModel(f);
    const C = principalCoordinates(m);
    close(Array.from(C.row(0)), [0.4 * a, 0.1 * b]);
    close(Array.from(C.row(1)), [0, -0.2 * b]);
    const out = await lastValueFrom(of(f).pipe(generate({ from: 'coordinates', coordinates: [Array.from(C.row(1))] })));
    close(pixels(out.images[0]!), Array.from(reconstructColumn(m, 1)));
    close(pixels(out.images[0]!), [0.5, 0.5 - 0.2 * b, 0.2, 0.8]);
  });

  it('walks the straight line between two images', async () => {
    const out = await lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'path', between: ['p', 2], steps: 3 })));
    expect(out.images.map((i) => i.name)).toEqual(['path_p_r_t0.00', 'path_p_r_t0.50', 'path_p_r_t1.00']);
    close(pixels(out.images[0]!), [0.5 + 0.4 * a, 0.5 + 0.1 * b, 0.2, 0.8]);
    close(pixels(out.images[1]!), [0.5, 0.5 + 0.1 * b, 0.2, 0.8]);
    close(pixels(out.images[2]!), [0.5 - 0.4 * a, 0.5 + 0.1 * b, 0.2, 0.8]);
    const r1 = await lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'path', between: ['p', 'r'], steps: 2, rank: 1 })));
    close(pixels(r1.images[0]!), [0.5 + 0.4 * a, 0.5, 0.2, 0.8]);
  });

  it('spans a grid of ±extent standard deviations over two components', async () => {
    const out = await lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'grid', steps: 3, extent: 1 })));
    expect(out.images).toHaveLength(9);
    const sd1 = 0.4 / Math.sqrt(2), sd2 = 0.1 / Math.sqrt(2);
    expect(out.images[0]!.name).toBe('grid_pc1-1.0sd_pc2+1.0sd');
    close(pixels(out.images[0]!), [0.5 - sd1, 0.5 + sd2, 0.2, 0.8]);
    close(pixels(out.images[4]!), [0.5, 0.5, 0.2, 0.8]);
    close(pixels(out.images[8]!), [0.5 + sd1, 0.5 - sd2, 0.2, 0.8]);
  });

  it('explains bad params and bad references', async () => {
    // between defaults to the first and the last image; negative indices count from the end
    const ends = await lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'path', steps: 2, name: '{from}-{to}' })));
    const named = await lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'path', between: ['p', 'r'], steps: 2 })));
    expect(ends.name).toBe('p-r');
    expect(ends.images.map((im) => Array.from(im.planes[0]!.data))).toEqual(named.images.map((im) => Array.from(im.planes[0]!.data)));
    await expect(lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'path', between: [0, -4] })))).rejects.toThrow('image index -4 is out of range; the collection has 3 images (0 to 2, or -1 to -3 from the end)');
    expect(() => generate({ from: 'grid', coordinates: [[1]] })).toThrow('coordinates is used only with from: coordinates (from is grid)');
    await expect(lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'path', between: ['p', 'qq'] })))).rejects.toThrow("between[1]: no image named 'qq' in the collection");
    await expect(lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'path', between: ['p', 'qq'] })))).rejects.toMatchObject({ hint: "did you mean 'q'? (or a 0-based index below 3)" });
    await expect(lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'path', between: [0, 3] })))).rejects.toThrow('image index 3 is out of range; the collection has 3 images (0 to 2, or -1 to -3 from the end)');
    await expect(lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'coordinates', coordinates: [[1, 2, 3]] })))).rejects.toThrow('got 3 coordinates, but the factorization keeps only 2 components');
    await expect(lastValueFrom(of(knownFactorization()).pipe(generate({ components: [1, 3] })))).rejects.toThrow('grid component 3 is beyond the 2 components');
  });
});
