/**
 * sharp (libvips) is loaded on first use (src/core/image/sharp.ts), not by importing the package:
 * a run that never reads or writes an image file (a video pipeline) does not carry libvips in its
 * resident memory. Checked in a fresh Node process on the built package: after importing every
 * stage and the video core, sharp is not in the module cache; after encoding one PNG it is (the
 * control: the check does see a loaded sharp).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ROOT, CLI } from '../helpers.js';

describe.skipIf(!existsSync(CLI))('sharp is loaded on first use', () => {
  it('importing the package and the video stages leaves it unloaded; encoding a PNG loads it', () => {
    const code = [
      "import { createRequire } from 'node:module';",
      "const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/sharp/'));",
      "await import('svdflow');",
      "await import('./dist/src/core/video/io/decode.js'); await import('./dist/src/core/video/io/cdnet.js'); await import('./dist/src/stages/write-frames.js');",
      'const before = loaded();',
      "const { encodePixels } = await import('./dist/src/core/image/io.js');",
      "const png = await encodePixels(new Uint8Array(4 * 3), 4, 3, 1, 'png');",
      'console.log(JSON.stringify({ before, after: loaded(), png: png.subarray(1, 4).toString() }));',
    ].join('\n');
    const p = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    expect(p.stderr).toBe('');
    expect(JSON.parse(p.stdout)).toEqual({ before: false, after: true, png: 'PNG' });
  });
});
