"""Peer for bench/points.bench.ts: Open3D point-to-plane ICP on the bunny, scipy cKDTree build + queries.
Usage: points.py BUN045 BUN000 BUN_CONF POINTS_F64 QUERIES_F64 REPS [icp]  -> one JSON line on stdout.
ICP: median wall time and median CPU time of the process (time.process_time: all its threads); 'icp' skips the k-d tree part."""
import json, sys, time
import numpy as np
import open3d as o3d
import scipy
from scipy.spatial import cKDTree

src_path, tgt_path, conf_path, pts_path, qry_path, reps = sys.argv[1:7]
icp_only = len(sys.argv) > 7 and sys.argv[7] == 'icp'
reps = int(reps)

def median_ms(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); t.append((time.perf_counter() - t0) * 1000)
    return float(np.median(t))

def quat_to_R(qx, qy, qz, qw):
    n = np.sqrt(qx*qx + qy*qy + qz*qz + qw*qw); x, y, z, w = qx/n, qy/n, qz/n, qw/n
    return np.array([[1-2*(y*y+z*z), 2*(x*y-z*w), 2*(x*z+y*w)], [2*(x*y+z*w), 1-2*(x*x+z*z), 2*(y*z-x*w)], [2*(x*z-y*w), 2*(y*z+x*w), 1-2*(x*x+y*y)]])

pose = None
for line in open(conf_path):
    t = line.split()
    if t and t[0] == 'bmesh' and t[1] == 'bun045.ply':
        v = list(map(float, t[2:9])); pose = (np.array(v[:3]), v[3:])
R_gt = quat_to_R(*pose[1]).T  # p_world = R^T p + t (see the data README)

src = o3d.io.read_point_cloud(src_path)
tgt0 = o3d.io.read_point_cloud(tgt_path)
result = {}
def run_icp():
    tgt = o3d.geometry.PointCloud(tgt0)
    tgt.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(30))
    return o3d.pipelines.registration.registration_icp(
        src, tgt, 0.005, np.eye(4),
        o3d.pipelines.registration.TransformationEstimationPointToPlane(),
        o3d.pipelines.registration.ICPConvergenceCriteria())
r = run_icp()
R = r.transformation[:3, :3]
c = np.clip((np.trace(R @ R_gt.T) - 1) / 2, -1, 1)
cpu = []
def timed_icp():
    c0 = time.process_time(); run_icp(); cpu.append((time.process_time() - c0) * 1000)
result['icpMs'] = median_ms(timed_icp, reps, 0)
result['icpCpuMs'] = float(np.median(cpu))
result['icpRotErrDeg'] = float(np.degrees(np.arccos(c)))
result['icpTransErr'] = float(np.linalg.norm(r.transformation[:3, 3] - pose[0]))
result['icpFitness'] = float(r.fitness)
result['icpRmse'] = float(r.inlier_rmse)

if icp_only:
    result['open3d'] = o3d.__version__
    print(json.dumps(result))
    sys.exit(0)
P = np.fromfile(pts_path, dtype='<f8').reshape(-1, 3)
Q = np.fromfile(qry_path, dtype='<f8').reshape(-1, 3)
result['kdBuildMs'] = median_ms(lambda: cKDTree(P), reps * 2)
tree = cKDTree(P)
result['kdQueryMs'] = median_ms(lambda: tree.query(Q, k=1), reps * 2)
d, i = tree.query(Q, k=1)
result['kdChecksum'] = float(np.sum(d * d))
result['open3d'] = o3d.__version__
result['scipy'] = scipy.__version__
print(json.dumps(result))
