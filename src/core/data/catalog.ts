/**
 * The third-party data sets that the shipped pipelines, tests and benchmarks use: where
 * each file comes from (a public repository at a pinned commit) and its SHA-256.
 *
 * Checksums and sizes live in `data/third-party/SHA256SUMS` (one line per file:
 * `sha256 size local/path`), so this module only states the sources. The local layout is
 * the one of `../shared/data` (see its README for provenance and how to cite each set).
 * Pure: no I/O beyond reading the checksum list given to it.
 */

/** One source repository at one commit, mapped onto a folder of the local layout. */
export interface DataSource {
  repo: string;
  commit: string;
  /** local prefix (e.g. `cdnet/highway/`) -> path prefix inside the repository (e.g. `highway/`) */
  map: Record<string, string>;
}

export interface DataSet {
  name: string;
  summary: string;
  /** local folders or files this set owns */
  prefixes: string[];
  sources: DataSource[];
  /** files that are derived, not copied (written from this content and checked like the others) */
  derived?: Record<string, string>;
}

export interface DataFile {
  /** path in the local layout, e.g. `cdnet/highway/input/in000001.jpg` */
  path: string;
  sha256: string;
  size: number;
  /** repository, commit and path inside it; absent for derived files */
  source?: { repo: string; commit: string; path: string };
  /** content of a derived file */
  content?: string;
}

/** A source from `owner/name@commit` and its map (local prefix -> path in the repository). */
function from(repoAtCommit: string, map: Record<string, string>): DataSource {
  const [repo, commit] = repoAtCommit.split('@') as [string, string];
  return { repo, commit, map };
}

const LRS = 'andrewssobral/lrslibrary@07cb09d69666e81b4bbc1da24b22943674b2afe3';
const SVD_FILES = 'jandrejevic12/svd_files@3acf7b76d4d5d4824541c87ba87d27f5006edf1b';

/** A data set: its name, what it is, the local folders it owns, its sources, and files derived from it. */
function dataSet(name: string, summary: string, prefixes: string[], sources: DataSource[], derived?: Record<string, string>): DataSet {
  return { name, summary, prefixes, sources, ...(derived ? { derived } : {}) };
}

export const DATASETS: readonly DataSet[] = [
  dataSet('videos', 'five fixed-camera test clips (OpenCV vtest.avi 480x360 and four LRSLibrary/BGSLibrary clips), 5.7 MB', ['video/'], [
    from('arjun-234/OpenCVTutorial@c6a0b7a99ffbb50bd3439137158ab69b5185ae9c', { 'video/vtest.avi': 'vtest.avi' }),
    from(LRS, { 'video/lrslibrary_demo.avi': 'dataset/demo.avi', 'video/escalator.avi': 'dataset/escalator.avi', 'video/shop.avi': 'dataset/shop.avi' }),
    from('andrewssobral/bgslibrary@4622bc9cded1c5504cec6db47db07b3e3c782ecc', { 'video/bgslibrary_video.avi': 'dataset/video.avi' }),
  ]),
  dataSet('highway', 'CDnet 2014 "highway": 1700 frames 320x240 with ground-truth masks, 27.9 MB', ['cdnet/highway/'], [
    from('ZZZZZZZJJHHH/FrameDifference@07919e2e14a9e0473d26f4b079b22a7d0949a276', { 'cdnet/highway/': 'highway/' }),
  ]),
  dataSet('caviar2', 'SBI2015 "CAVIAR2" in CDnet layout: 460 frames 384x256 with foreground masks, 8.3 MB', ['cdnet/CAVIAR2/'], [
    from('lim-anggun/FgSegNet@7aa31e2eba2bbe29f4725c040288e0090c453316', { 'cdnet/CAVIAR2/': 'SBI2015_dataset/CAVIAR2/' }),
  ]),
  dataSet(
    'bunny',
    'Stanford bunny range scans bun000/bun045 with their ground-truth poses, 4.4 MB',
    ['pointclouds/'],
    [
      from('dengnantianjie/3dcoursework@fdabb8f051a5e2b209fe9e5ac5fe989588413f3c', {
        'pointclouds/bun000.ply': 'bunny/data/bun000.ply', 'pointclouds/bun045.ply': 'bunny/data/bun045.ply', 'pointclouds/README.stanford.txt': 'bunny/data/README',
      }),
    ],
    // three lines of the original bunny/data/bun.conf (the poses of the two scans used here)
    {
      'pointclouds/bun.conf':
        'camera -0.0172 -0.0936 -0.734  -0.0461723 0.970603 -0.235889 0.0124573\n' +
        'bmesh bun000.ply 0 0 0 0 0 0 1\n' +
        'bmesh bun045.ply -0.0520211 -0.000383981 -0.0109223 0.00548449 -0.294635 -0.0038555 0.955586\n',
    },
  ),
  dataSet('seed', "the seed exercises' inputs: turtle photo, hidden-message PNG, 22 stamps, the 2-D point cloud, 2.3 MB", ['seed/'], [
    from('erodola/NumMeth-s2-2022@1bb903abf334a8f82f7de434fac7b48868cce8e4', { 'seed/point_cloud.txt': 'esercizi/ex6/point_cloud.txt' }),
    from(SVD_FILES, { 'seed/stamps/': 'stamps/', 'seed/turtle.JPG': 'turtle.JPG', 'seed/hidden_message.png': 'hidden_message.png' }),
  ]),
];

/** Parses `sha256 size path` lines. */
export function parseChecksums(text: string): Map<string, { sha256: string; size: number }> {
  const out = new Map<string, { sha256: string; size: number }>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^([0-9a-f]{64}) (\d+) (.+)$/.exec(line.trim());
    if (!m) throw new Error(`checksum list line ${i + 1} is not "sha256 size path": ${line}`);
    out.set(m[3]!, { sha256: m[1]!, size: Number(m[2]) });
  });
  return out;
}

export function findDataSet(name: string): DataSet | undefined {
  return DATASETS.find((d) => d.name === name.toLowerCase());
}

/** The data set whose folder holds a local path, if any. */
export function dataSetOf(path: string): DataSet | undefined {
  const p = path.replace(/\\/g, '/').replace(/^\.\//, '');
  return DATASETS.find((d) => d.prefixes.some((x) => p === x.replace(/\/$/, '') || p.startsWith(x)));
}

/** Every file of a data set with its source and checksum. */
export function filesOf(set: DataSet, sums: Map<string, { sha256: string; size: number }>): DataFile[] {
  const files: DataFile[] = [];
  for (const [path, sum] of sums) {
    if (!set.prefixes.some((x) => path.startsWith(x))) continue;
    if (set.derived?.[path] !== undefined) continue;
    const source = sourceOf(set, path);
    if (!source) throw new Error(`data set ${set.name}: no source for ${path}`);
    files.push({ path, ...sum, source });
  }
  for (const [path, content] of Object.entries(set.derived ?? {})) {
    const sum = sums.get(path);
    if (!sum) throw new Error(`data set ${set.name}: no checksum for the derived file ${path}`);
    files.push({ path, ...sum, content });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

function sourceOf(set: DataSet, path: string): DataFile['source'] {
  for (const s of set.sources) {
    for (const [local, remote] of Object.entries(s.map)) {
      if (local.endsWith('/') ? path.startsWith(local) : path === local) {
        return { repo: s.repo, commit: s.commit, path: local.endsWith('/') ? remote + path.slice(local.length) : remote };
      }
    }
  }
  return undefined;
}
