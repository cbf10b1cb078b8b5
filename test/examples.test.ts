/** The README's programmatic example (examples/compress.ts) runs and writes what it says. */
import { describe, it, expect } from 'vitest';
import sharp from 'sharp';
import { join } from 'node:path';
import { compress } from '../examples/compress.js';
import { ROOT, tempDir } from './helpers.js';

describe('README example', () => {
  it('compresses the bundled photo to 99% energy and writes a gray PNG of the same size', async () => {
    const tmp = tempDir();
    try {
      const file = await compress(join(ROOT, 'data', 'turtle.JPG'), tmp.dir);
      expect(file.path).toBe(join(tmp.dir, 'turtle-99.png'));
      const meta = await sharp(file.path).metadata();
      expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 720, 960, 1]);
    } finally {
      tmp.cleanup();
    }
  });
});
