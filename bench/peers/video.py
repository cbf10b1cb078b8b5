"""Peers for bench/video.bench.ts: OpenCV MOG2 and a temporal median (F on CDnet, fps on vtest.avi),
scikit-learn IncrementalPCA (fps). Prints one JSON line."""
import json, sys, time, glob, os
import numpy as np, cv2
from sklearn.decomposition import IncrementalPCA

shared = sys.argv[1]
out = {}

def cdnet(name):
    d = os.path.join(shared, 'cdnet', name)
    first, last = map(int, open(os.path.join(d, 'temporalROI.txt')).read().split()[:2])
    files = sorted(glob.glob(os.path.join(d, 'input', 'in*.jpg')))
    return d, first, last, files

def score(masks, d, first, last):
    tp = fp = fn = tn = 0
    for n, m in masks:
        if n < first or n > last: continue
        g = cv2.imread(os.path.join(d, 'groundtruth', 'gt%06d.png' % n), cv2.IMREAD_GRAYSCALE)
        if g is None: continue
        fg = g == 255; bg = (g == 0) | (g == 50); p = m > 0
        tp += int((p & fg).sum()); fp += int((p & bg).sum()); fn += int((~p & fg).sum()); tn += int((~p & bg).sum())
    pr = tp / max(1, tp + fp); rc = tp / max(1, tp + fn)
    return 2 * pr * rc / max(1e-12, pr + rc)

for name in ['highway', 'CAVIAR2']:
    d, first, last, files = cdnet(name)
    mog = cv2.createBackgroundSubtractorMOG2()
    masks = []
    frames = []
    for f in files:
        n = int(os.path.basename(f)[2:8]); im = cv2.imread(f)
        m = mog.apply(im); masks.append((n, (m == 255).astype(np.uint8)))
        frames.append((n, cv2.cvtColor(im, cv2.COLOR_BGR2GRAY)))
    out[name + '_mog2_F'] = score(masks, d, first, last)
    # temporal median over a sliding window of 31 frames, threshold 30 grey levels
    arr = np.stack([f for _, f in frames]).astype(np.int16)
    med_masks = []
    for i, (n, f) in enumerate(frames):
        if n < first: continue
        lo = max(0, i - 30); bg = np.median(arr[lo:max(lo + 1, i)], axis=0)
        med_masks.append((n, (np.abs(arr[i] - bg) > 30).astype(np.uint8)))
    out[name + '_median_F'] = score(med_masks, d, first, last)

vt = os.path.join(shared, 'video', 'vtest.avi')
def mog2_fps(loops=1):
    t0 = time.perf_counter(); cap = cv2.VideoCapture(vt); mog = cv2.createBackgroundSubtractorMOG2(); n = 0
    wr = cv2.VideoWriter('/tmp/svdflow-bench-mog2.avi', cv2.VideoWriter_fourcc(*'MJPG'), 10, (480, 360), False)
    while True:
        ok, im = cap.read()
        if not ok: break
        wr.write(mog.apply(im)); n += 1
    wr.release()
    return n / (time.perf_counter() - t0)
out['vtest_mog2_fps'] = float(np.median([mog2_fps() for _ in range(3)]))
cap = cv2.VideoCapture(vt); X = []
while len(X) < 300:
    ok, im = cap.read()
    if not ok: break
    X.append(cv2.cvtColor(im, cv2.COLOR_BGR2GRAY).reshape(-1).astype(np.float64) / 255)
X = np.array(X); t0 = time.perf_counter(); ipca = IncrementalPCA(n_components=2, batch_size=30)
for i in range(0, len(X), 30):
    b = X[i:i + 30]; ipca.partial_fit(b); bg = ipca.inverse_transform(ipca.transform(b)); m = np.abs(b - bg) > 0.12
out['vtest_ipca_fps'] = len(X) / (time.perf_counter() - t0)
print(json.dumps(out))
