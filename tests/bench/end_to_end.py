#!/usr/bin/python3
"""End to end against the OFFICIAL pipeline (github.com/jungyg/TailedCore): the
official `main.py` sequence and `tailedcore run` on the same MVTec-format tree,
with the same TorchScript backbone weights and thread count, in one run, and
one table: per-class image / pixel AUROC of both, wall time and peak RSS of
both, and the stage breakdown.

  /usr/bin/python3 tests/bench/end_to_end.py --official-src /tmp/ref \\
      --tailedcore build/tailedcore --data TREE --weights wrn50_random.pt \\
      [--make-weights] [--configs patchcore,softpatch,tailedcore_mvtec,tailedcore_visa] \\
      [--threads 2] [--resize 256 --imagesize 224] [--report results/bench/end_to_end.md]

--make-weights writes --weights first: torchvision's wide_resnet50_2 with
seeded random weights (--weights-seed) and its BatchNorm statistics
re-estimated on the tree's training images (the reference transform),
scripted with torch.jit (what `model.backbone_weights` loads).

The official code is imported at run time from --official-src (a folder with
its src/ and configs/); nothing of it is copied. Offline it needs, from
outside its files:
  * src.backbone.get_backbone evals models.wide_resnet50_2(pretrained=True)
    (a download): the engine gets a constructor that loads the TorchScript
    file's weights into torchvision's (eager) wide_resnet50_2 instead, so its
    forward hooks work;
  * NUM_TRAIN_SAMPLES_MVTEC[classname] raises KeyError for class names that
    are not MVTec's (it only feeds a print): unknown names read 0;
  * save_result plots overlays with cv2 (no effect on the metrics): skipped;
  * timm and GPUtil are imported but unused on CPU: stubbed when missing.
main.py itself joins a Namespace into a path, so its sequence is driven here:
set_seed, get_dataloaders, per test class Engine(...).train() / .infer(),
min-max normalisation, save_result. Its coreset cache (coreset.pt) lives in a
fresh folder per run, so the first class trains and the others load it, as
main.py does. The official code draws its projections and first centres from
torch's and numpy's global generators, ours from seeded streams, so the banks
differ and the metrics can only agree within the spread one seed causes.

--same-draws takes that spread away: ours runs first, and the official run
is handed our draws, nothing else of its code touched: each
torch.nn.Linear its samplers build gets our projection for that role (LOF,
head greedy, tail greedy: read from the seeds lof.h5 and coreset.h5 record;
torch's CPU generator is LibTorch's, so torch.Generator().manual_seed(s)
with uniform_ rebuilds it bit for bit), and each greedy's first
np.random.randint returns the candidate row our greedy started from (found by
content: the row nearest our first bank row, projected). Both pipelines then
build their banks from the same random numbers, and any difference left is
the pipelines'.

Each side runs in its own process, the official first, then ours, config by
config; wall time is that process's (start-up included), CPU time its
process tree's user + system time, peak RSS its largest process's (ru_maxrss).
Every `tailedcore run` gets a fresh results root, so none reuses the features
another config extracted.
"""
import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

OFFICIAL_CONFIG = {  # our config name -> the official configs/ file
    "patchcore": "patchcore",
    "softpatch": "softpatch_mvtec",
    "tailedcore_mvtec": "tailedcore_mvtec",
    "tailedcore_visa": "tailedcore_visa",
}


# ---- helpers -------------------------------------------------------------------

def thread_env(threads):
    env = dict(os.environ)
    for var in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TAILEDCORE_THREADS"]:
        env[var] = str(threads)
    return env


def timed(cmd, env, log_path):
    """Runs cmd; returns (wall s, CPU s, peak RSS MiB of its process tree, rc)."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "rc = subprocess.call(sys.argv[1:]); w = time.perf_counter() - t; "
               "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
               "print('E2E_TIMING', w, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024, rc)")
    with open(log_path, "w") as log:
        out = subprocess.run([sys.executable, "-c", wrapper] + cmd, env=env, stdout=subprocess.PIPE,
                             stderr=log, text=True)
    lines = out.stdout.splitlines()
    timing = [l for l in lines if l.startswith("E2E_TIMING")]
    with open(log_path, "a") as log:
        log.write("\n".join(l for l in lines if not l.startswith("E2E_TIMING")) + "\n")
    if not timing:
        raise SystemExit(f"end_to_end.py: {' '.join(cmd)} left no timing; see {log_path}")
    _, wall, cpu, rss, rc = timing[-1].split()
    return float(wall), float(cpu), float(rss), int(rc)


def train_images(tree):
    out = []
    for cls in sorted(os.listdir(tree)):
        good = os.path.join(tree, cls, "train", "good")
        if os.path.isdir(good):
            out += [os.path.join(good, f) for f in sorted(os.listdir(good))]
    return out


# ---- weights -------------------------------------------------------------------

def make_weights(args):
    import torch
    import torchvision
    from PIL import Image
    from torchvision import transforms

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.weights_seed)
    model = torchvision.models.wide_resnet50_2()  # torchvision's (kaiming) random init
    tf = transforms.Compose([transforms.Resize(args.resize), transforms.CenterCrop(args.imagesize),
                             transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    images = train_images(args.data)
    # BatchNorm statistics re-estimated on the training images (cumulative
    # average over every image, one pass), so random deep layers do not
    # collapse the embeddings.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        for s in range(0, len(images), 16):
            model(torch.stack([tf(Image.open(p).convert("RGB")) for p in images[s:s + 16]]))
    model.eval()
    tmp = args.weights + ".tmp"
    torch.jit.script(model).save(tmp)
    os.replace(tmp, args.weights)
    print(f"{args.weights}: random wide_resnet50_2 (seed {args.weights_seed}), BatchNorm on "
          f"{len(images)} training images", flush=True)


# ---- our draws, handed to the official samplers (--same-draws) ----------------

class _Override:
    """A module with some attributes replaced; the rest are the module's."""

    def __init__(self, base, **replaced):
        self._base = base
        self.__dict__.update(replaced)

    def __getattr__(self, name):
        return getattr(self._base, name)


def our_draws(run_dir):
    """{role: (projection seed, first bank row or None)} of our run: roles lof, head, tail."""
    import h5py
    import torch
    draws = {}
    lof = os.path.join(run_dir, "lof.h5")
    if os.path.isfile(lof):
        with h5py.File(lof, "r") as f:
            if "projection_seed" in f.attrs:
                draws["lof"] = (int(f.attrs["projection_seed"]), None)
    with h5py.File(os.path.join(run_dir, "coreset.h5"), "r") as f:
        bank = torch.from_numpy(f["coreset"][:])
        tail_rows = int(f.attrs.get("tail_rows", 0))
        if "tail_greedy_seed" in f.attrs:
            draws["tail"] = (int(f.attrs["tail_greedy_seed"]), bank[0])
        if "greedy_seed" in f.attrs:
            draws["head"] = (int(f.attrs["greedy_seed"]), bank[tail_rows])
    return draws


def our_projection(seed, in_dim, out_dim):
    """sampling::random_projection: [in, out] uniform(+-1/sqrt(in)) from a CPU generator seeded `seed`."""
    import torch
    g = torch.Generator()
    g.manual_seed(seed)
    bound = 1.0 / in_dim ** 0.5
    return torch.empty(in_dim, out_dim).uniform_(-bound, bound, generator=g)


def hand_draws_to_official(sampler, draws):
    """Makes the official samplers use `draws` (see --same-draws); logs each draw it hands over."""
    import inspect
    import numpy as np
    import torch

    def role(for_projection):
        frames = inspect.stack()
        try:
            if for_projection and any(isinstance(f.frame.f_locals.get("self"), sampler.LOFSampler) for f in frames):
                return "lof"
            return "tail" if any(f.function == "_get_coreset_tail" for f in frames) else "head"
        finally:
            del frames

    def drawn(r):
        if r not in draws:
            raise SystemExit(f"end_to_end.py --same-draws: the official code drew a {r} projection or centre; "
                             f"our run has none (ours: {', '.join(sorted(draws)) or 'no draws'})")
        return draws[r]

    def linear(in_features, out_features, bias=True, **kw):
        r = role(True)
        layer = torch.nn.Linear(in_features, out_features, bias=bias, **kw)
        with torch.no_grad():
            layer.weight.copy_(our_projection(drawn(r)[0], in_features, out_features).t())
        print(f"same draws: {r} projection {in_features} -> {out_features}, seed {drawn(r)[0]}", flush=True)
        return layer

    pending = []

    def randint(low, high=None, *a, **k):
        if not pending:
            raise SystemExit("end_to_end.py --same-draws: np.random.randint outside a greedy coreset")
        n = low if high is None else high - low
        index = pending.pop()
        assert 0 <= index < n, (index, n)
        return index

    def with_our_first_centre(original):
        def run(self, features, *a, **k):
            seed, first_row = drawn(role(False))
            projected = first_row[None, :].float()
            if projected.shape[1] != features.shape[1]:
                projected = projected @ our_projection(seed, projected.shape[1], features.shape[1])
            index = int(torch.cdist(features.float()[None], projected[None])[0, :, 0].argmin())
            print(f"same draws: {role(False)} greedy over {len(features)} rows starts at row {index}", flush=True)
            pending.append(index)
            return original(self, features, *a, **k)
        return run

    sampler.torch = _Override(torch, nn=_Override(torch.nn, Linear=linear))
    sampler.np = _Override(np, random=_Override(np.random, randint=randint))
    for cls in vars(sampler).values():
        if isinstance(cls, type) and "_compute_greedy_coreset_indices" in vars(cls):
            cls._compute_greedy_coreset_indices = with_our_first_centre(cls._compute_greedy_coreset_indices)


# ---- the official pipeline (in its own process) --------------------------------

def official_main(args):
    """main.py's sequence for one config; writes a JSON result to args.json_out."""
    torch_threads = args.threads
    stubs = tempfile.mkdtemp(prefix="e2e_stubs_")
    for module, text in {"timm": "", "GPUtil": "def getGPUs():\n    return []\n"}.items():
        try:
            __import__(module)
        except ImportError:
            with open(os.path.join(stubs, module + ".py"), "w") as f:
                f.write(text)
    sys.path[:0] = [stubs, args.official_src]
    os.environ["PYTHONPATH"] = os.pathsep.join([stubs, args.official_src, os.environ.get("PYTHONPATH", "")])

    import collections
    import numpy as np
    import torch
    import torchvision

    torch.set_num_threads(torch_threads)
    from src import utils, dataloader, engine  # noqa: E402
    import src.evaluator.result as result  # noqa: E402

    def backbone_from_torchscript(name):
        model = torchvision.models.wide_resnet50_2()
        model.load_state_dict(torch.jit.load(args.weights).state_dict())
        return model.eval()

    engine.get_backbone = backbone_from_torchscript
    if args.draws_from:
        import src.sampler as sampler  # noqa: E402
        hand_draws_to_official(sampler, our_draws(args.draws_from))
    dataloader.NUM_TRAIN_SAMPLES_MVTEC = collections.defaultdict(int, dataloader.NUM_TRAIN_SAMPLES_MVTEC)
    utils.plot_mvtec_score_masks = lambda *a, **k: None

    config = utils.load_config_args(os.path.join(args.official_src, "configs",
                                                 OFFICIAL_CONFIG[args.config] + ".yaml"))
    if args.seed is not None:
        config.seed = args.seed
    config.data.resize = args.resize
    config.data.imagesize = args.imagesize
    config.data.inputsize = args.imagesize

    stages = collections.OrderedDict()

    def add(stage, seconds):
        stages[stage] = stages.get(stage, 0.0) + seconds

    t_all = time.perf_counter()
    utils.set_seed(config.seed)
    device = torch.device("cpu")
    input_shape = (3, config.data.inputsize, config.data.inputsize)
    t = time.perf_counter()
    loaders = dataloader.get_dataloaders(config.data, dataset="mvtec", data_path=args.data,
                                         batch_size=args.batch_size)
    add("dataloaders", time.perf_counter() - t)
    save_train_dir = tempfile.mkdtemp(prefix="e2e_official_")
    per_class = []
    for dl in loaders:
        train_dl, test_dl = dl["train"], dl["test"]
        save_test_dir = os.path.join(save_train_dir, test_dl.name)
        t = time.perf_counter()
        labels_gt, masks_gt = [], []
        for data in test_dl:
            labels_gt.extend(data["is_anomaly"].numpy().tolist())
            masks_gt.extend(data["mask"].numpy().tolist())
        add("test labels", time.perf_counter() - t)
        image_scores, score_masks = [], []
        for backbone_name in config.model.backbone_names:
            eng = engine.Engine(config=config, backbone_name=backbone_name, device=device,
                                input_shape=input_shape, train_dataloader=train_dl, test_dataloader=test_dl,
                                faiss_on_gpu=False, faiss_num_workers=0, sampler_on_gpu=False,
                                save_dir_path=save_train_dir, patch_infer=False,
                                train_mode=getattr(config.model, "train_mode", None))
            t = time.perf_counter()
            eng.train()
            add("train (first class) / load coreset", time.perf_counter() - t)
            t = time.perf_counter()
            s, m, paths = eng.infer()
            add("infer", time.perf_counter() - t)
            image_scores.append(s)
            score_masks.append(m)
            del eng
        t = time.perf_counter()
        image_scores = utils.minmax_normalize_image_scores(np.array(image_scores))
        score_masks = utils.minmax_normalize_score_masks(np.array(score_masks))
        masks = np.array(masks_gt).astype(np.uint8)[:, 0, :, :]
        r = result.save_result(paths, image_scores, labels_gt, np.array(score_masks), masks, save_test_dir,
                               num_ths=41)
        add("metrics", time.perf_counter() - t)
        per_class.append({"class": test_dl.name, "image_auroc": r["image_auroc"],
                          "pixel_auroc": r["pixel_auroc"]})
    wall = time.perf_counter() - t_all
    shutil.rmtree(save_train_dir, ignore_errors=True)
    shutil.rmtree(stubs, ignore_errors=True)
    with open(args.json_out, "w") as f:
        json.dump({"classes": per_class, "stages": stages, "inner_wall_s": wall}, f)


# ---- ours ----------------------------------------------------------------------

def ours(args, config, work):
    # A fresh results root per config: no run reuses another's cached features.
    out = os.path.join(work, "results_" + config)
    cmd = [args.tailedcore, "run", "-c", os.path.join(args.repo, "configs", config + ".yaml"),
           "--data", args.data, "--out", out, "--run-id", "e2e", "--threads", str(args.threads),
           "--set", f"model.backbone_weights={os.path.abspath(args.weights)}",
           "--set", f"data.resize={args.resize}", "--set", f"data.imagesize={args.imagesize}",
           "--set", f"data.inputsize={args.imagesize}"] + sum([["--set", s] for s in args.set], []) + \
        (["--set", f"seed={args.seed}"] if args.seed is not None else [])
    log = os.path.join(work, f"ours_{config}.log")
    wall, cpu, rss, rc = timed(cmd, thread_env(args.threads), log)
    if rc != 0:
        raise SystemExit(f"end_to_end.py: tailedcore run failed (rc {rc}); see {log}")
    run_dir = os.path.join(out, os.path.basename(os.path.normpath(args.data)), config, "e2e")
    classes = []
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        for row in csv.DictReader(f):
            if row["class"] != "mean":
                classes.append({"class": row["class"], "image_auroc": float(row["image_auroc"]),
                                "pixel_auroc": float(row["pixel_auroc"])})
    stages = {}
    with open(os.path.join(run_dir, "run.log")) as f:
        for line in f:
            m = re.search(r"stage (\S+) done in ([0-9.eE+-]+) s", line)
            if m:
                stages[m.group(1)] = stages.get(m.group(1), 0.0) + float(m.group(2))
    return {"classes": classes, "stages": stages, "wall_s": wall, "cpu_s": cpu, "peak_mib": rss,
            "run_dir": run_dir}


def official(args, config, work, draws_from=None):
    json_out = os.path.join(work, f"official_{config}.json")
    cmd = [sys.executable, os.path.abspath(__file__), "--official-run", "--config", config,
           "--official-src", args.official_src, "--data", args.data, "--weights", args.weights,
           "--threads", str(args.threads), "--resize", str(args.resize), "--imagesize", str(args.imagesize),
           "--batch-size", str(args.batch_size), "--json-out", json_out] + \
        (["--seed", str(args.seed)] if args.seed is not None else []) + \
        (["--draws-from", draws_from] if draws_from else [])
    log = os.path.join(work, f"official_{config}.log")
    wall, cpu, rss, rc = timed(cmd, thread_env(args.threads), log)
    if rc != 0:
        raise SystemExit(f"end_to_end.py: the official pipeline failed (rc {rc}); see {log}")
    with open(json_out) as f:
        res = json.load(f)
    res.update(wall_s=wall, cpu_s=cpu, peak_mib=rss)
    return res


# ---- the table -----------------------------------------------------------------

def table(args, results, load_note):
    draws = "same draws (ours handed to the official)" if args.same_draws else "each pipeline's own draws"
    lines = [f"### `{os.path.basename(args.data)}` ({args.resize} -> {args.imagesize} px, {args.threads} threads, "
             f"seed {args.seed if args.seed is not None else 'default'}, {draws}{load_note})", ""]
    lines += ["| config | class | official image / pixel AUROC | ours | diff (pt) |", "|---|---|---|---|---|"]
    for config, (off, our) in results.items():
        ours_by = {c["class"]: c for c in our["classes"]}
        for c in off["classes"]:
            o = ours_by.get(c["class"], {"image_auroc": float("nan"), "pixel_auroc": float("nan")})
            di, dp = o["image_auroc"] - c["image_auroc"], o["pixel_auroc"] - c["pixel_auroc"]
            lines.append(f"| {config} | {c['class']} | {c['image_auroc']:.2f} / {c['pixel_auroc']:.2f} | "
                         f"{o['image_auroc']:.2f} / {o['pixel_auroc']:.2f} | {di:+.2f} / {dp:+.2f} |")
    lines += ["", "| config | official wall (s) | ours wall (s) | speed-up | official CPU (s) | ours CPU (s) | "
                  "official peak RSS (MiB) | ours (MiB) |", "|---|---|---|---|---|---|---|---|"]
    for config, (off, our) in results.items():
        lines.append(f"| {config} | {off['wall_s']:.1f} | {our['wall_s']:.1f} | "
                     f"{off['wall_s'] / our['wall_s']:.2f}x | {off['cpu_s']:.1f} | {our['cpu_s']:.1f} | "
                     f"{off['peak_mib']:.0f} | {our['peak_mib']:.0f} |")
    lines += ["", "| config | official stages (s) | ours stages (s) |", "|---|---|---|"]
    for config, (off, our) in results.items():
        fmt = lambda st: ", ".join(f"{k} {v:.1f}" for k, v in st.items())
        lines.append(f"| {config} | {fmt(off['stages'])} | {fmt(our['stages'])} |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--official-src", required=True)
    p.add_argument("--tailedcore", default="build/tailedcore")
    p.add_argument("--data", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--make-weights", action="store_true")
    p.add_argument("--weights-seed", type=int, default=0)
    p.add_argument("--configs", default="patchcore,softpatch,tailedcore_mvtec")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--resize", type=int, default=256)
    p.add_argument("--imagesize", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=128, help="the official loaders' batch (main.py's default)")
    p.add_argument("--set", action="append", default=[], help="extra --set for tailedcore run")
    p.add_argument("--seed", type=int, default=None,
                   help="both pipelines' seed (the official: config.seed, given to utils.set_seed; ours: --set seed)")
    p.add_argument("--same-draws", action="store_true",
                   help="hand the official samplers our projections and first centres (ours runs first)")
    p.add_argument("--load-note", default="", help="machine conditions, written into the table")
    p.add_argument("--report", default="", help="append the table to this Markdown file")
    p.add_argument("--keep", default="", help="keep logs and runs in this folder")
    # internal: one official run
    p.add_argument("--official-run", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    p.add_argument("--json-out", help=argparse.SUPPRESS)
    p.add_argument("--draws-from", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.data = os.path.abspath(args.data)
    args.official_src = os.path.abspath(args.official_src)
    if args.official_run:
        return official_main(args)
    args.repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    args.tailedcore = os.path.abspath(args.tailedcore)
    for c in args.configs.split(","):
        if c not in OFFICIAL_CONFIG:
            raise SystemExit(f"end_to_end.py: --configs: {c!r} is unknown: expected one of {', '.join(OFFICIAL_CONFIG)}")
    if args.make_weights:
        make_weights(args)
    if not os.path.isfile(args.weights):
        raise SystemExit(f"end_to_end.py: --weights {args.weights}: no such file (pass --make-weights)")
    # Both pipelines read the weights and the images: read them once first, so
    # that the first timed run (ours, with --same-draws) does not pay alone
    # for a cold page cache.
    for path in [args.weights] + [os.path.join(d, f) for d, _, fs in os.walk(args.data) for f in fs]:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    work = args.keep or tempfile.mkdtemp(prefix="e2e_")
    os.makedirs(work, exist_ok=True)
    results = {}
    for config in args.configs.split(","):
        if args.same_draws:  # ours first: the official run takes its draws
            our = ours(args, config, work)
            print(f"{config}: ours {our['wall_s']:.1f} s", flush=True)
            off = official(args, config, work, draws_from=our["run_dir"])
            print(f"{config}: official {off['wall_s']:.1f} s", flush=True)
        else:
            off = official(args, config, work)
            print(f"{config}: official {off['wall_s']:.1f} s", flush=True)
            our = ours(args, config, work)
            print(f"{config}: ours {our['wall_s']:.1f} s", flush=True)
        results[config] = (off, our)
    text = table(args, results, f"; {args.load_note}" if args.load_note else "")
    print(text)
    if args.report:
        with open(args.report, "a") as f:
            f.write(text + "\n")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
