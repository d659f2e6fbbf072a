#!/usr/bin/python3
"""Times the OFFICIAL TailedCore code (github.com/jungyg/TailedCore, src/) on the
input a C++ benchmark wrote, so that the benchmark reports our speed against the
code researchers compare us with, in the same run. The benchmarks run it when
given --official-src:

  git -C <mirror of jungyg/TailedCore> archive HEAD src | tar -x -C /tmp/ref
  build/tests/bench_class_size 3000 2048 --official-src /tmp/ref

  /usr/bin/python3 official_baseline.py SRC_ROOT TASK IN.h5 OUT.h5 THREADS REPS

TASK class_size: IN x [N, E] float32 -> OUT class_sizes [N]
  (adaptive_class_size.adaptively_sample_few_shot, trim_min + mode: the default).
TASK lof: IN x [N * P, D] float32, attrs h, w (D = 128, so no projection)
  -> OUT scores [N * P], kept (LOFSampler.run, patch-wise: one sklearn
  LocalOutlierFactor per position, then the 0.85 quantile).
TASK greedy: IN x [N, D] float32, attr steps -> OUT indices [steps + 1]
  (GreedyCoresetSampler's brute-force loop on x as given, the projection
  being the caller's; its first index from numpy's RNG seeded with 0).
OUT attrs min_s, median_s: one untimed warm-up, then REPS timed calls;
peak_mib: the peak RSS above the size before the first call.

The official code runs as shipped: its thresholds use joblib's process pool
(Parallel(n_jobs=-1)), torch and BLAS get THREADS threads. Modules it imports
but these functions never use (cv2, pandas, ...) are stubbed as files on
PYTHONPATH so that joblib's worker processes import them too.
"""
import os
import resource
import shutil
import sys
import tempfile
import time

src_root, task, in_path, out_path, threads, reps = sys.argv[1:7]
threads, reps = int(threads), int(reps)
for var in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]:
    os.environ[var] = str(threads)

stubs = tempfile.mkdtemp(prefix="official_stubs_")
stub_files = {
    "cv2": {"cv2.py": ""},
    "pandas": {"pandas.py": ""},
    "tabulate": {"tabulate.py": "def tabulate(*a, **k):\n    return ''\n"},
    "tqdm": {"tqdm.py": "def tqdm(x=None, *a, **k):\n    return x\n"},
    "matplotlib": {"matplotlib/__init__.py": "", "matplotlib/pyplot.py": ""},
}
for module, files in stub_files.items():
    try:
        __import__(module)
        continue  # installed: the real one
    except ImportError:
        pass
    for name, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(stubs, name)), exist_ok=True)
        with open(os.path.join(stubs, name), "w") as f:
            f.write(text)
os.environ["PYTHONPATH"] = os.pathsep.join([stubs, src_root, os.environ.get("PYTHONPATH", "")])
sys.path[:0] = [stubs, src_root]

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(threads)
from src import adaptive_class_size, sampler  # noqa: E402

with h5py.File(in_path, "r") as f:
    x = torch.from_numpy(np.asarray(f["x"], dtype=np.float32))
    h = int(f["x"].attrs.get("h", 0))
    w = int(f["x"].attrs.get("w", 0))
    steps = int(f["x"].attrs.get("steps", 0))

if task == "class_size":
    def call():
        return {"class_sizes": adaptive_class_size.adaptively_sample_few_shot(
            x, "trim_min", "mode", return_class_sizes=True).numpy()}
elif task == "lof":
    def call():
        _, kept, scores = sampler.LOFSampler().run(x, feature_map_shape=(h, w),
                                                   return_outlier_scores=True)
        return {"scores": scores.numpy(), "kept": kept.numpy().astype(np.int64)}
elif task == "greedy":
    # int(n * percentage) = steps + 1 centres.
    greedy = sampler.GreedyCoresetSampler(percentage=(steps + 1.5) / len(x),
                                          dimension_to_project_features_to=x.shape[1],
                                          device=torch.device("cpu"))

    def call():
        np.random.seed(0)
        return {"indices": np.asarray(greedy._compute_greedy_coreset_indices(x), dtype=np.int64)}
else:
    sys.exit(f"official_baseline.py: task {task!r}: expected class_size, lof or greedy")

rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = call()  # warm-up: starts joblib's workers, loads BLAS
seconds = []
for _ in range(reps):
    t0 = time.perf_counter()
    result = call()
    seconds.append(time.perf_counter() - t0)
seconds.sort()

tmp = out_path + ".tmp"
with h5py.File(tmp, "w") as f:
    for key, value in result.items():
        f[key] = value
    f.attrs["min_s"] = seconds[0]
    f.attrs["median_s"] = seconds[len(seconds) // 2]
    # This process's peak above its size before the first call, in MiB
    # (joblib's worker processes are not counted).
    f.attrs["peak_mib"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
os.replace(tmp, out_path)
shutil.rmtree(stubs, ignore_errors=True)
