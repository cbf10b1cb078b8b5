import { describe, it, expect, afterAll } from 'vitest';
import { from } from 'rxjs';
import sharp from 'sharp';
import { Matrix } from '../../src/core/linalg/matrix.js';
import type { Image, ImageBatch } from '../../src/core/ports.js';
import { contactSheetStage } from '../../src/stages/contact-sheet.js';
import { compareSheet, batchRelativeError } from '../../src/stages/compare-sheet.js';
import { sheetLayout, shortNames, wrapWords } from '../../src/core/image/collage.js';
import { generate } from '../../src/stages/generate.js';
import { knownFactorization } from './pca-fixtures.js';
import { tempDir } from '../helpers.js';
import { batchOf, lastValueFrom, of } from './pca-fixtures.js';

function solid(name: string, w: number, h: number, rgb: [number, number, number]): Image {
  const planes = rgb.map((v) => {
    const p = new Matrix(h, w);
    p.data.fill(v);
    return p;
  });
  return { kind: 'Image', name, width: w, height: h, color: 'rgb', planes, range: [0, 1] };
}

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function pixel(path: string, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  const o = (y * info.width + x) * info.channels;
  return Array.from(data.subarray(o, o + 3));
}

describe('contact-sheet', () => {
  it('draws each batch as a row, wrapping into bands of `columns`', async () => {
    const colours: [number, number, number][] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.4, 0.6], [1, 1, 0]];
    const a = batchOf(colours.map((c, i) => solid(`a${i}`, 20, 10, c)), 'first');
    const b = batchOf(colours.map((c, i) => solid(`b${i}`, 20, 10, [1 - c[0], 1 - c[1], 1 - c[2]])), 'second');
    const file = await lastValueFrom(from([a, b]).pipe(contactSheetStage({ columns: 3, path: 'sheet-{name}.png' }, { ctx: { outDir: tmp.dir } })));
    expect(file.kind).toBe('File');
    expect(file.path).toBe(`${tmp.dir}/sheet-first.png`);
    const meta = await sharp(file.path).metadata();
    // The layout, worked out by hand (not by the layout function the stage calls): a 120 px label
    // column, thumbnails of 20x10 px with 6 px gaps, no title (6 px top margin), each band a 16 px
    // name line plus 2 rows of (10 + 6) px plus 6 px = 54 px; 5 images in 3 columns make 2 bands.
    expect(meta.width).toBe(120 + 3 * 26 + 6);
    expect(meta.height).toBe(6 + 2 * 54);
    const place = (row: number, i: number) => ({ left: 120 + (i % 3) * 26, top: 6 + Math.floor(i / 3) * 54 + 16 + row * 16 });
    for (let i = 0; i < 5; i++) {
      const p = place(0, i), q = place(1, i);
      expect(await pixel(file.path, p.left + 10, p.top + 5)).toEqual(colours[i]!.map((v) => Math.round(v * 255)));
      expect(await pixel(file.path, q.left + 10, q.top + 5)).toEqual(colours[i]!.map((v) => Math.round((1 - v) * 255)));
    }
    // image 3 wraps into the second band, below both rows of the first
    expect(place(0, 3).top).toBeGreaterThan(place(1, 0).top + 10);
  });

  it('scales thumbnails', async () => {
    const a = batchOf([solid('x', 40, 20, [0.2, 0.4, 0.6])], 'half');
    const file = await lastValueFrom(of(a).pipe(contactSheetStage({ scale: 0.5, names: false }, { ctx: { outDir: tmp.dir } })));
    const meta = await sharp(file.path).metadata();
    expect(meta.width).toBe(120 + 20 + 6 + 6);
    expect(meta.height).toBe(6 + 10 + 6 + 6);
    expect(await pixel(file.path, 120 + 10, 6 + 5)).toEqual([51, 102, 153]);
  });

  it('refuses an empty input and mixed sizes', async () => {
    const empty: ImageBatch = { kind: 'ImageBatch', name: 'e', width: 0, height: 0, color: 'rgb', images: [] };
    await expect(lastValueFrom(of(empty).pipe(contactSheetStage({}, { ctx: { outDir: tmp.dir } })))).rejects.toThrow('contact sheet has no images to show');
    const mixed = batchOf([solid('big', 20, 10, [0, 0, 0]), solid('small', 10, 10, [0, 0, 0])]);
    await expect(lastValueFrom(of(mixed).pipe(contactSheetStage({}, { ctx: { outDir: tmp.dir } })))).rejects.toThrow('contact sheet images must share one size: small (row');
  });
});

describe('compare-sheet', () => {
  it('puts the originals first and labels each row with its relative error', async () => {
    const orig = batchOf([solid('p', 8, 8, [0.5, 0.5, 0.5]), solid('q', 8, 8, [1, 0, 0])], 'images');
    const approx = batchOf([solid('p', 8, 8, [0.4, 0.5, 0.5]), solid('q', 8, 8, [1, 0, 0])], 'X-r1');
    // ‖B - O‖² = 64 * 0.01; ‖O‖² = 64 * (0.75 + 1)
    expect(batchRelativeError(approx.images, orig.images)).toBeCloseTo(Math.sqrt(0.01 / 1.75), 12);
    const file = await lastValueFrom(of(approx).pipe(compareSheet({ path: 'cmp.png' }, { sides: { originals: orig }, ctx: { outDir: tmp.dir } })));
    expect(file.description).toContain('X-r1 (rel. error 0.0756)');
    // by hand: first thumbnail at (120, 6 + 16) (label column, top margin, name line); the next row 8 + 6 px lower
    const p = { left: 120, top: 22 }, q = { left: 120, top: 22 + 14 };
    expect(await pixel(file.path, p.left + 4, p.top + 4)).toEqual([128, 128, 128]);
    expect(await pixel(file.path, q.left + 4, q.top + 4)).toEqual([102, 128, 128]);
  });

  it('refuses a batch that does not match the originals', async () => {
    const orig = batchOf([solid('p', 8, 8, [0.5, 0.5, 0.5])], 'images');
    const other = batchOf([solid('p', 8, 8, [0.5, 0.5, 0.5]), solid('q', 8, 8, [0.5, 0.5, 0.5])], 'X-r1');
    await expect(lastValueFrom(of(other).pipe(compareSheet({}, { sides: { originals: orig }, ctx: { outDir: tmp.dir } })))).rejects.toThrow(
      "batch 'X-r1' (2 images, 8x8 rgb) does not match the originals 'images' (1 images, 8x8 rgb)",
    );
  });

  it('a long title wraps to the thumbnails instead of widening the sheet with empty margin', () => {
    const imgs = Array.from({ length: 5 }, (_, i) => solid(`g${i}`, 40, 50, [0.5, 0.5, 0.5]));
    const title = 'Generated on a PC1 x PC2 grid, -2 to +2 sd: PC1 grows to the right, PC2 upwards, and more words';
    const L = sheetLayout([{ label: 'grid', images: imgs }], { title, columns: 5 });
    const content = 120 + 5 * (40 + 6) + 6;
    expect(L.width).toBeLessThanOrEqual(Math.max(content, 420));
    expect(L.titleLines.length).toBeGreaterThan(1);
    expect(L.titleLines.join(' ')).toBe(title);
    for (const l of L.titleLines) expect(l.length * 9.2).toBeLessThanOrEqual(L.width);
    expect(wrapWords('a bb ccc', 4)).toEqual(['a bb', 'ccc']);
  });

  it('names sharing a prefix are shown by what differs; generate grids carry their ±sd axis labels', async () => {
    expect(shortNames(['path_im_00_im_11_t0.00', 'path_im_00_im_11_t0.50', 'path_im_00_im_11_t1.00'])).toEqual({ prefix: 'path_im_00_im_11_', names: ['t0.00', 't0.50', 't1.00'] });
    expect(shortNames(['a1', 'b2'])).toEqual({ prefix: '', names: ['a1', 'b2'] });
    const g = await lastValueFrom(of(knownFactorization()).pipe(generate({ from: 'grid', steps: 3, extent: 2 })));
    expect(g.grid).toEqual({ x: 'PC1', y: 'PC2', columns: ['−2 sd', '0', '+2 sd'], rows: ['+2 sd', '0', '−2 sd'] });
    // the sheet of a grid: one band per grid row, even with names off (the column labels need the strip)
    const L = sheetLayout([{ label: 'grid', images: g.images, grid: g.grid }], { columns: 3, names: false });
    expect(L.bands).toBe(3);
    expect(L.place(0, 0).top).toBeGreaterThanOrEqual(6 + 16);
  });
});
