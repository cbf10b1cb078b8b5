/**
 * Registration from any pose (#10): bun045 → bun000 from the identity and from 90°/180° turns about
 * each axis. svdflow `register` (init global: 5 mm voxel keypoints, FPFH, mutual matches, seeded RANSAC
 * with edge-length/distance checks, then the default point-to-plane schedule) against Open3D's FPFH +
 * RANSAC global registration followed by point-to-plane ICP, on the same clouds in the same run.
 * Rotation error against bun.conf, and time (medians of repeats; 2 shared cores).
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, loadavg } from 'node:os';
import { runPeer, sharedData, timeCpuMs, report, type BenchRow } from './lib.js';
import { parsePoints, parseConf } from '../src/core/points/parse.js';
import { register } from '../src/core/points/register.js';
import { cloudScale, defaultSchedule } from '../src/core/points/schedule.js';
import { tasks as pointTasks } from '../src/core/pool/tasks/points.js';
import { closePool } from '../src/core/pool/index.js';
import { applyTransform, axisAngle, compose, decompose, homogeneous, invertTransform, quatToMatrix, rotationAngleBetween } from '../src/core/points/rigid.js';
import { Matrix } from '../src/core/linalg/matrix.js';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const VOXEL = 0.005;
const rows: BenchRow[] = [];
const load0 = loadavg();
const notes: string[] = [];
const b045 = sharedData('pointclouds/bun045.ply'), b000 = sharedData('pointclouds/bun000.ply'), conf = sharedData('pointclouds/bun.conf');
if (!b045 || !b000 || !conf) {
  notes.push('skipped: ../shared/data/pointclouds is absent');
  report('registration', 'Registration from any pose (#10): FPFH + RANSAC + ICP vs Open3D', rows, notes);
  process.exit(0);
}
const tmp = mkdtempSync(join(tmpdir(), 'svdflow-bench-reg-'));
const src = parsePoints(readFileSync(b045), { file: 'bun045.ply' }).points;
const tgt = parsePoints(readFileSync(b000), { file: 'bun000.ply' }).points;
const pose = parseConf(readFileSync(conf, 'utf8')).get('bun045.ply')!;
const gt = homogeneous(quatToMatrix(...pose.q).transpose(), pose.t);
const cases: [string, number[], number][] = [['identity', [1, 0, 0], 0], ['90° about x', [1, 0, 0], 90], ['180° about x', [1, 0, 0], 180], ['90° about y', [0, 1, 0], 90], ['180° about y', [0, 1, 0], 180], ['90° about z', [0, 0, 1], 90], ['180° about z', [0, 0, 1], 180]];
const f64 = (M: Matrix, name: string) => { const p = join(tmp, name); writeFileSync(p, new Uint8Array(M.data.buffer, M.data.byteOffset, M.rows * M.cols * 8)); return p; };
const tgtPath = f64(tgt, 'target.f64');
const moved = cases.map(([, axis, deg]) => { const M = homogeneous(axisAngle(axis, deg), [0, 0, 0]); return { M, P: applyTransform(M, src) }; });
const srcPaths = moved.map((m, i) => f64(m.P, `source${i}.f64`));
type PeerOut = { open3d: string; cases: { T: number[][]; ms: number; cpuMs: number; fitness: number; rmse: number; globalFitness: number }[] };
const peer = runPeer<PeerOut>('registration.py', [tgtPath, srcPaths.join(','), String(VOXEL), String(REPS)]);
// the same cases with one OpenMP thread: the peer's CPU time for the work, beside svdflow's one-thread run
const peer1 = runPeer<PeerOut>('registration.py', [tgtPath, srcPaths.join(','), String(VOXEL), String(REPS)], { OMP_NUM_THREADS: '1' });
let sumS = 0, sumP = 0, sumOne = 0, worstS = 0, worstP = 0, cpuS = 0, cpuP = 0, cpuOne = 0, cpuP1 = 0;
for (const [i, [name]] of cases.entries()) {
  const want = decompose(compose(gt, invertTransform(moved[i]!.M))).R;
  const opts = { init: 'global' as const, global: { voxel: VOXEL, seed: 0 }, icp: { estimation: 'point-to-plane' as const } };
  // as the align stage runs it: in the compute pool (neighbour queries split over the cores); and in this thread alone
  const run = () => pointTasks.run('register', [moved[i]!.P, tgt, opts]);
  // the process's first registrations also compile the code (JIT): two warm-up runs first, so that the
  // stage times in the notes are those of warm code (one was not enough: global stage 1129 ms in the
  // first pooled run, 565 ms in the second, then 230-240 ms, at load ~7; the peer also runs each case once untimed)
  if (i === 0) { await run(); await run(); }
  const r = await run();
  const { wall: ms, cpu } = await timeCpuMs(run, REPS, 0);
  const { wall: one, cpu: c1 } = await timeCpuMs(() => register(moved[i]!.P, tgt, opts), REPS, 0);
  sumOne += one; cpuS += cpu; cpuOne += c1; cpuP += peer.cases[i]!.cpuMs; cpuP1 += peer1.cases[i]!.cpuMs;
  const err = rotationAngleBetween(decompose(r.transform).R, want);
  const pc = peer.cases[i]!;
  const perr = rotationAngleBetween(decompose(Matrix.from2D(pc.T)).R, want);
  sumS += ms; sumP += pc.ms; worstS = Math.max(worstS, err); worstP = Math.max(worstP, perr);
  rows.push({ case: `bun045 (${name}) → bun000: rotation error vs bun.conf`, metric: 'error (degrees)', svdflow: err, peer: perr, peerName: `Open3D ${peer.open3d}`, ratio: err / perr, goal: 'no larger than the peer', met: err <= perr + 1e-9, note: `fitness ${r.fitness.toFixed(3)} vs ${pc.fitness.toFixed(3)}; confident ${r.confident}` });
  rows.push({ case: `bun045 (${name}) → bun000: global + ICP`, metric: 'time (ms, median)', svdflow: ms, peer: pc.ms, peerName: `Open3D ${peer.open3d}`, ratio: ms / pc.ms, goal: '<= 1.0x', met: ms / pc.ms <= 1, note: `in the compute pool (one thread alone: ${one.toFixed(0)} ms); CPU ${cpu.toFixed(0)} ms all threads vs Open3D ${peer.cases[i]!.cpuMs.toFixed(0)} ms; stages ${r.stages.map((s) => `${s.stage} ${Math.round(s.ms)} ms`).join(', ')}` });
}
rows.push({ case: 'all 7 cases: worst rotation error', metric: 'error (degrees)', svdflow: worstS, peer: worstP, peerName: `Open3D ${peer.open3d}`, ratio: worstS / worstP, goal: 'no larger than the peer', met: worstS <= worstP });
rows.push({ case: 'all 7 cases: total time', metric: 'time (ms, sum of medians)', svdflow: sumS, peer: sumP, peerName: `Open3D ${peer.open3d}`, ratio: sumS / sumP, goal: '<= 1.0x', met: sumS / sumP <= 1, note: `in the compute pool; one thread alone: ${sumOne.toFixed(0)} ms` });
rows.push({ case: 'all 7 cases: CPU time, both sides on 2 threads (the runs timed above)', metric: 'CPU time (ms, sum of medians)', svdflow: cpuS, peer: cpuP, peerName: `Open3D ${peer.open3d}`, ratio: cpuS / cpuP, note: 'process CPU, all threads: the work done, whatever the load' });
rows.push({ case: 'all 7 cases: CPU time, one thread each', metric: 'CPU time (ms, sum of medians)', svdflow: cpuOne, peer: cpuP1, peerName: `Open3D ${peer.open3d} (OMP_NUM_THREADS=1)`, ratio: cpuOne / cpuP1, note: `svdflow register() in the calling thread; Open3D's walls with one thread: ${peer1.cases.reduce((a, c) => a + c.ms, 0).toFixed(0)} ms` });
// the last level's correspondence distance moves the rotation error at the 1e-4° level: the identity case with the
// distance svdflow used before (extent / 100 = 2.47 mm on bun000) instead of 0.5 x voxel (2.5 mm, Open3D's)
{
  const scale = cloudScale(tgt);
  const lv = defaultSchedule(scale, { globalVoxel: VOXEL });
  lv[2] = { ...lv[2]!, maxCorrespondenceDistance: scale.extent / 100 };
  const r = register(moved[0]!.P, tgt, { init: 'global', global: { voxel: VOXEL, seed: 0 }, icp: { estimation: 'point-to-plane' }, levels: lv });
  const want = decompose(compose(gt, invertTransform(moved[0]!.M))).R;
  const e = rotationAngleBetween(decompose(r.transform).R, want);
  const perr = rotationAngleBetween(decompose(Matrix.from2D(peer.cases[0]!.T)).R, want);
  rows.push({ case: `sensitivity: identity case, last ICP level at extent/100 = ${(scale.extent / 100 * 1000).toFixed(3)} mm instead of 2.5 mm`, metric: 'error (degrees)', svdflow: e, peer: perr, peerName: `Open3D ${peer.open3d} (2.5 mm)`, ratio: e / perr, note: 'not a goal: how much the last distance alone moves the error' });
}
await closePool();
notes.push(`Both sides: ${VOXEL * 1000} mm voxel keypoints, normals within 2 x voxel (30 at most), FPFH within 5 x voxel (100 at most), mutual descriptor matches, RANSAC with edge-length 0.9 and distance 1.5 x voxel checks, (100000, 0.999), seed 0; then point-to-plane ICP on the full clouds (40k points). Features of BOTH clouds are computed inside the timed region on both sides; file parsing is not timed.`);
notes.push('Refinement: svdflow runs its default 3-level schedule after a global alignment (5 mm voxels at 7.5 mm, 2.5 mm voxels at 3.75 mm, full resolution at 0.5 x voxel = 2.5 mm); Open3D runs one full-resolution level at 0.5 x voxel = 2.5 mm (its tutorial uses 0.4 x voxel). svdflow estimates ICP target normals (PCA of 30 neighbours) only for the target points it matches; Open3D for all (hybrid 2 x voxel, 30).');
notes.push('Rotation error: both sides land within 1e-4° of each other; the sensitivity row shows that the last level\'s correspondence distance alone moves svdflow\'s error by about 2e-4° (the sensitivity row: the previous default, extent/100, measured in this run). Per case the peer\'s error varies by ~2e-5° because it stops by absolute changes of fitness and RMSE (1e-6), earlier than svdflow\'s relative criteria; bun.conf itself is not accurate to 1e-4°.');
notes.push('CPU rows: process CPU time (process.cpuUsage / time.process_time, all threads) per run, medians summed: the work each side does, which the machine\'s load does not change much (wall ratios at a load above 2 mostly measure who got the cores). Open3D\'s OpenMP threads may spin while waiting, which counts as CPU on its 2-thread row; the one-thread row has no such waiting on either side.');
notes.push('svdflow normals are turned away from the keypoints\' centroid (rotation-invariant); Open3D leaves PCA normal signs as found.');
notes.push(`Medians of ${REPS} runs per case on a 2-core machine shared with other engineers; ratio = svdflow / peer (lower is better for svdflow). Open3D uses OpenMP on the 2 cores; svdflow runs in a compute-pool worker whose query team splits FPFH (both passes), descriptor matching, RANSAC's final scoring, normals, ICP's correspondence searches (in every ICP level) and the build of the 40k-point target tree (by subtrees) over the cores (RANSAC's sampling, downsampling, the small trees and the ICP updates stay on one thread) (goal #15: total <= 1.0x Open3D; #10 asked within 1.5x); stage times in the notes are those of an untimed pooled run of the case (after two warm-up registrations in the process: the first ones also compile the code).`);
notes.push('Work saved without changing any answer: ICP keeps, per source point, a distance below which no target point but its match lies (the second-nearest\'s), less what the point has moved since: a point that moved less keeps its match unsearched (the later iterations move most points by microns); the first ICP level reuses the global stage\'s 5 mm keypoints and tree; target normals take their 30 neighbours as a set (no distance sort). Same transforms to the last bit as searching every point (tests).');
{
  const bound = cpuOne / 2 / sumP;
  notes.push(`Bound on the wall goal, from this run's CPU rows: svdflow's work is ${cpuOne.toFixed(0)} ms of one-thread CPU for the 7 cases (Open3D's ${cpuP1.toFixed(0)} ms, ${(cpuOne / cpuP1).toFixed(2)}x: FPFH, kNN normals and ICP searches in JavaScript against C++), so even split perfectly over the 2 cores it cannot take less than ${(cpuOne / 2).toFixed(0)} ms of wall, ${bound.toFixed(2)}x Open3D's measured ${sumP.toFixed(0)} ms; ${bound > 1 ? 'the <= 1.0x goal needs less work per case, not more threads' : 'the goal is within that bound only while little of the work is serial: RANSAC\'s sampling, downsampling, the small trees and the ICP updates run on one thread, and a loaded machine gives the pool\'s second thread less than a core'}.`);
}
rmSync(tmp, { recursive: true, force: true });
notes.push(`Load average (1/5/15 min) at the start ${load0.map((x) => x.toFixed(2)).join(' / ')}, at the end ${loadavg().map((x) => x.toFixed(2)).join(' / ')}, on 2 cores shared with other work: the peer's OpenMP threads and svdflow's pool threads both got less than the cores.`);
report('registration', 'Registration from any pose (#10): FPFH + RANSAC + ICP vs Open3D', rows, notes);
