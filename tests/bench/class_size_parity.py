#!/usr/bin/python3
"""What parity with the official class sizes means on THIS machine.

tailedcore computes the self-similarity with exact-rounded float32 entries
(src/sampling/similarity.cpp), the same on every machine; the official code
computes it with one float32 BLAS product, whose last bits follow the machine's
BLAS kernel and thread count. This script runs, on the same embeddings:

  official  the official code as shipped (adaptive_class_size / class_size);
  exact     the official code with its one similarity function
            (class_size.compute_self_sim) replaced by the exact-rounded one
            (tests/fixtures/sampling/exact_similarity.py);
  ours      `tailedcore tail` (the C++ executable);

and reports: similarity entries that differ between official and exact, rows
whose threshold differs, images whose class size differs, the tail sets, the
rows whose neighbour set differs (a last bit crossed the row's threshold, or
moved a quantised threshold past an entry: the only way official and ours can
differ), and whether ours equals exact (it must, everywhere).

  git -C <mirror of jungyg/TailedCore> archive HEAD src | tar -x -C /tmp/ref
  /usr/bin/python3 tests/bench/class_size_parity.py --official-src /tmp/ref \
      --tailedcore build/tailedcore --out results/bench/class_size_parity.md
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--official-src", required=True)
ap.add_argument("--tailedcore", required=True)
ap.add_argument("--out", default=None)
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)

sys.path.insert(0, os.path.join(here, "..", "fixtures", "sampling"))
import official_src  # noqa: E402

official_src.add_to_path(args.official_src)
import joblib  # noqa: E402
from src import adaptive_class_size, class_size  # noqa: E402

import exact_similarity  # noqa: E402

joblib.parallel.DEFAULT_BACKEND = "threading"
official_sim = class_size.compute_self_sim


def blobs(rng, sizes, dim, spread):
    rows = []
    for s in sizes:
        centre = rng.gamma(2.0, 1.0, size=dim)
        rows.append(np.abs(centre + spread * rng.normal(size=(s, dim))))
    x = np.concatenate(rows)
    return x[rng.permutation(len(x))].astype(np.float32)


rng = np.random.default_rng(5)
# Pareto-like class sizes as in the official noisy long-tail sets.
pareto_811 = [209, 160, 120, 90, 66, 48, 35, 25, 18, 13, 9, 7, 5, 5, 1]
sets = {
    "fixture-pareto (130 x 32)": blobs(rng, [60, 31, 17, 9, 5, 5, 3], 32, 0.35),
    "fixture-like dups (62 x 16)": blobs(rng, [30, 20, 5, 1, 6], 16, 0.3),
    "mvtec-sized (811 x 2048)": blobs(rng, pareto_811, 2048, 0.6),
    "mvtec-sized, loose (811 x 512)": blobs(rng, pareto_811, 512, 1.5),
}
rules = [("trim_min", "mode"), ("double_max_step", "none"), ("max_step", "mean"), ("symmin", "mean")]


def official_sizes(x, th, vote, sim_fn):
    class_size.compute_self_sim = sim_fn
    try:
        X = torch.from_numpy(x)
        if th in ("symmin", "symavg", "indep"):
            cs = class_size.sample_few_shot(X, th_type=th, vote_type=vote, return_class_sizes=True)
        else:
            cs = adaptive_class_size.adaptively_sample_few_shot(X, th, vote, return_class_sizes=True)
        cs = torch.as_tensor(cs).float().reshape(-1)
        tail = torch.where(class_size.predict_few_shot_class_samples(cs) == 1)[0].numpy()
        return cs.numpy(), set(tail.tolist())
    finally:
        class_size.compute_self_sim = official_sim


def row_thresholds(sim, th):
    if th in ("symmin", "symavg", "indep"):
        return None
    return adaptive_class_size._compute_ths(sim, th).numpy().reshape(-1)


def scalar_threshold(sim, th):
    return np.float32(class_size._compute_th(sim, th_type=th))


def ours(x, th, vote, tmp):
    src, dst = os.path.join(tmp, "emb.h5"), os.path.join(tmp, "tail.h5")
    with h5py.File(src, "w") as f:
        f["embeddings"] = x
        f.attrs["config_hash"] = "parity"
    subprocess.run([args.tailedcore, "tail", "--in", src, "--out", dst, "--th-type", th, "--vote", vote,
                    "--threads", str(args.threads)], check=True, stdout=subprocess.DEVNULL)
    with h5py.File(dst, "r") as f:
        return np.asarray(f["class_sizes"]), set(np.asarray(f["tail_indices"]).tolist())


def same(a, b):
    return np.array_equal(np.nan_to_num(a, nan=-1), np.nan_to_num(b, nan=-1))


lines = ["| embeddings | rule | similarity entries official != exact | rows with another threshold | "
         "class sizes official != ours | tail set official vs ours (only official / only ours) | "
         "rows whose neighbour set differs | ours == exact |",
         "|---|---|---|---|---|---|---|---|"]
with tempfile.TemporaryDirectory() as tmp:
    for name, x in sets.items():
        X = torch.from_numpy(x)
        s_off, s_exact = official_sim(X), exact_similarity.compute_self_sim(X)
        entries = int((s_off != s_exact).sum())
        for th, vote in rules:
            cs_off, tail_off = official_sizes(x, th, vote, official_sim)
            cs_exact, tail_exact = official_sizes(x, th, vote, exact_similarity.compute_self_sim)
            cs_ours, tail_ours = ours(x, th, vote, tmp)
            t_off, t_exact = row_thresholds(s_off, th), row_thresholds(s_exact, th)
            th_rows = ("n/a (one scalar)" if t_off is None else
                       str(int((np.nan_to_num(t_off, nan=-9) != np.nan_to_num(t_exact, nan=-9)).sum())))
            # The rows whose neighbour set {j: S_ij >= th_i} differs: a BLAS
            # last bit moved an entry across the row's threshold, or moved the
            # threshold itself (a quantisation level k/N) past an entry.
            n = len(x)
            th_a = t_off[:, None] if t_off is not None else scalar_threshold(s_off, th)
            th_b = t_exact[:, None] if t_exact is not None else scalar_threshold(s_exact, th)
            moved = int(((s_off.numpy() >= th_a) != (s_exact.numpy() >= th_b)).any(axis=1).sum())
            lines.append(f"| {name} | {th} + {vote} | {entries} of {n * n} | {th_rows} | "
                         f"{int((np.nan_to_num(cs_off, nan=-1) != np.nan_to_num(cs_ours, nan=-1)).sum())} of {n} | "
                         f"{len(tail_off - tail_ours)} / {len(tail_ours - tail_off)} (of {len(tail_off)}) | "
                         f"{moved} of {n} | "
                         f"{'yes' if same(cs_ours, cs_exact) and tail_ours == tail_exact else 'NO'} |")
            print(lines[-1], flush=True)

report = "\n".join(lines) + "\n"
if args.out:
    with open(args.out, "w") as f:
        f.write("# Class sizes: the official code on this machine against tailedcore\n\n"
                "Made by `tests/bench/class_size_parity.py` (its docstring says what each column means).\n\n"
                f"Machine: `{os.uname().machine}`, {os.cpu_count()} cores, torch {torch.__version__}, "
                f"{args.threads} threads.\n\n" + report)
print(report)
