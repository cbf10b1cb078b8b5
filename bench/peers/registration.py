"""Peer for bench/registration.bench.ts: Open3D global registration (FPFH + RANSAC) then point-to-plane ICP.
Usage: registration.py TARGET_F64 SOURCES_F64_LIST(comma) VOXEL REPS  -> one JSON line on stdout.
Per case: the median wall time and the median CPU time of the process (time.process_time: all its threads).
Each case: voxel_down_sample, estimate_normals (hybrid 2v, 30), compute_fpfh_feature (hybrid 5v, 100) on both
clouds, registration_ransac_based_on_feature_matching (mutual filter, 1.5v, point-to-point without scaling,
ransac_n 3, edge length 0.9 + distance 1.5v checkers, RANSACConvergenceCriteria(100000, 0.999)), then
registration_icp point-to-plane on the full clouds (target normals hybrid 2v, 30) at 0.5v from the RANSAC result."""
import json, sys, time
import numpy as np
import open3d as o3d

tgt_path, src_paths, voxel, reps = sys.argv[1], sys.argv[2].split(','), float(sys.argv[3]), int(sys.argv[4])
reg = o3d.pipelines.registration

def cloud(path):
    p = o3d.geometry.PointCloud()
    p.points = o3d.utility.Vector3dVector(np.fromfile(path, dtype='<f8').reshape(-1, 3))
    return p

def prepare(pc):
    down = pc.voxel_down_sample(voxel)
    down.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=2 * voxel, max_nn=30))
    f = reg.compute_fpfh_feature(down, o3d.geometry.KDTreeSearchParamHybrid(radius=5 * voxel, max_nn=100))
    return down, f

def run(src, tgt):
    o3d.utility.random.seed(0)
    sd, sf = prepare(src)
    td, tf = prepare(tgt)
    d = 1.5 * voxel
    g = reg.registration_ransac_based_on_feature_matching(
        sd, td, sf, tf, True, d, reg.TransformationEstimationPointToPoint(False), 3,
        [reg.CorrespondenceCheckerBasedOnEdgeLength(0.9), reg.CorrespondenceCheckerBasedOnDistance(d)],
        reg.RANSACConvergenceCriteria(100000, 0.999))
    t = o3d.geometry.PointCloud(tgt)
    t.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=2 * voxel, max_nn=30))
    r = reg.registration_icp(src, t, 0.5 * voxel, g.transformation, reg.TransformationEstimationPointToPlane(), reg.ICPConvergenceCriteria())
    return g, r

tgt = cloud(tgt_path)
out = []
for path in src_paths:
    src = cloud(path)
    g, r = run(src, tgt)
    times, cpu = [], []
    for _ in range(reps):
        c0 = time.process_time(); t0 = time.perf_counter(); run(src, tgt)
        times.append((time.perf_counter() - t0) * 1000); cpu.append((time.process_time() - c0) * 1000)
    out.append({'T': r.transformation.tolist(), 'Tglobal': g.transformation.tolist(), 'ms': float(np.median(times)), 'cpuMs': float(np.median(cpu)),
                'fitness': float(r.fitness), 'rmse': float(r.inlier_rmse), 'globalFitness': float(g.fitness)})
print(json.dumps({'open3d': o3d.__version__, 'cases': out}))
