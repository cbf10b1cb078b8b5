import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineFiles } from '../../../src/core/video/io/line-files.js';
import { tempDir } from '../../helpers.js';

const tmp = tempDir('svdflow-linefiles-');
afterAll(() => tmp.cleanup());
const writeNow = async (f: string, d: string) => writeFileSync(f, d);
const read = (dir: string, key: string, ext: string) => readFileSync(join(dir, 'files', key + ext), 'utf8');

describe('LineFiles', () => {
  it('a close() during an append (a cancelled run) records no frames that some file lacks: --resume gives whole files', async () => {
    const dir = join(tmp.dir, 'cut');
    const names = { jsonl: 'objects.jsonl', csv: 'foreground.csv' };
    const lines = (a: number, b: number, tag: string) => Array.from({ length: b - a }, (_, i) => `${tag}${a + i}\n`).join('');
    const f = await LineFiles.open(dir, names, 'frame\n', 0, false, writeNow);
    await f.append(10, { jsonl: lines(0, 10, 'j'), csv: lines(0, 10, 'c') });
    // the teardown closes the files while the next batch is being written
    const pending = f.append(20, { jsonl: lines(10, 20, 'j'), csv: lines(10, 20, 'c') });
    const closing = f.close();
    await pending;
    await closing;
    const r = await LineFiles.open(dir, names, 'frame\n', 0, true, writeNow);
    // both files continue from the frame the record names, with every frame before it
    await r.append(30, { jsonl: lines(r.next, 30, 'j'), csv: lines(r.next, 30, 'c') });
    await r.close();
    expect(read(dir, 'jsonl', '.jsonl')).toBe(lines(0, 30, 'j'));
    expect(read(dir, 'csv', '.csv')).toBe('frame\n' + lines(0, 30, 'c'));
  });
});
