"""skser against the original Keras Light-SERNet and TIM-Net, side by side, in one run.

The Keras side runs in a subprocess started with the Python of a separate
TensorFlow virtual environment (``--keras-python``), executing
``benchmarks/_keras_worker.py`` on the user's own, unchanged checkouts of the
originals (``--lightsernet-repo``: ``AryaAftab/LIGHT-SERNET``;
``--timnet-repo``: ``Jiaxin-Ye/TIM-Net_SER``). Nothing of the originals is in
skser. Setting up the Keras side (outside skser's venv)::

    python3 -m venv /path/to/keras-venv
    /path/to/keras-venv/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 \\
        librosa==0.11.0 pandas matplotlib tqdm

and git checkouts of the GitHub repositories ``AryaAftab/LIGHT-SERNET`` and
``Jiaxin-Ye/TIM-Net_SER`` (their commits are printed with the results).

Then, from skser's repository root::

    SKSER_DATA=/path/to/data OMP_WAIT_POLICY=PASSIVE python benchmarks/keras_side_by_side.py \\
        --keras-python /path/to/keras-venv/bin/python \\
        --lightsernet-repo /path/to/LIGHT-SERNET --timnet-repo /path/to/TIM-Net_SER \\
        --out side_by_side.json

The defaults (5 latency rounds, 2 fits of 4 epochs per side, one thread)
took 25 minutes on a 2-core machine at load 8-12 and 12.5 minutes at load
5-9 (an estimate from the CPU times: 7-8 minutes on an idle one, not
measured); ``--threads 1 2`` adds the two-thread batch-32
and training figures (about as long again). ``--quick`` (1-3 minutes): 48
clips per corpus, 2 rounds, one fit of 2 epochs.

Protocol
--------
* Inputs. Latency: synthetic speech-like waveforms (``bench_models.speechlike``),
  3 s at 16 kHz for Light-SERNet, 110 000 samples (the original's RAVDESS
  length, 5.0 s) at 22.05 kHz for TIM-Net; one and 32 of them. Training: the
  535 clips of the EMO-DB 2 s copy (Light-SERNet, resampled to 16 kHz, then
  the original's 3 s segmentation and ``tf.signal`` MFCC: 184 x 40) and the
  1440 RAVDESS clips (TIM-Net, the original's ``get_feature``: 215 x 39), both
  made once by the Keras worker with the originals' code and given to both
  sides as the same tensors.
* Calls. Keras: the model wrapped in ``tf.function(lambda x: model(x,
  training=False))`` (``.numpy()`` on the result); end to end = the original
  front end (Light-SERNet: ``trim_wave`` + ``normalize`` (p99.9) in numpy, then
  ``get_spectrogram`` -> ``get_mel_spectrogram`` -> ``get_mfcc`` inside the
  same ``tf.function`` as the model; TIM-Net: ``get_feature`` per waveform,
  then the model) and ``argmax``. skser: model only = the bare module under
  ``torch.inference_mode``; end to end = ``make_pipeline(front,
  model).predict(waves)`` (``MFCC.light_sernet(duration=3.0)``,
  ``MFCC.timnet(duration=110000 / 22050)``); front end = ``front.transform``.
* Threads. Batch-1 figures: one thread on both sides (torch and its BLAS;
  TensorFlow intra- and inter-op pools, numpy's BLAS in the worker). Batch-32
  and training figures: for each ``--threads`` value. TensorFlow fixes its
  pools at start-up, so each thread count has its own worker process.
* Rounds. Each round times every latency figure on both sides, in the order
  skser-Keras, then Keras-skser in the next round; a figure per round is the
  median of ``--repeats`` calls (batch 32: ``--repeats32``) after 3 warm-up
  calls. Training: ``--fits`` fits per side of ``--epochs`` epochs, sides
  alternating; a fit's figure is the median of its epochs after the first.
  Reported: the median over rounds (fits) on each side, and the median of the
  per-round (per-fit) ratios skser / Keras, which cancels most of the drift
  of a shared machine's load.
* Training set-ups. Keras Light-SERNet: ``train.py``'s compile (Adam 1e-4,
  ``SparseCategoricalFocalLoss(gamma=2)``, accuracy), its LR scheduler and a
  ``tf.data`` cache-shuffle-batch(32)-prefetch pipeline; Keras TIM-Net:
  ``create_model()`` (Adam 1e-3, betas 0.93/0.98) and ``fit(X,
  smooth_labels(y, 0.1), batch_size=64)``; skser ``LightSERNet(lr=1e-4,
  loss="focal", focal_gamma=2.0)`` and ``TIMNet()`` (label smoothing 0.1);
  no validation split on either side. Epoch time on both sides: wall time from
  the start to the end of the epoch (skser: a callback after skorch's own, so
  the per-epoch train-UAR scoring is included, as Keras' accuracy metric is).

On a machine shared with other jobs set ``OMP_WAIT_POLICY=PASSIVE`` (the
script sets it when unset, before torch starts): torch's OpenMP threads
otherwise busy-wait on oversubscribed cores. Nothing else differs between the
two sides' processes. TensorFlow's own thread pool ignores that variable and
spins briefly before it sleeps, which is what GNU OpenMP does by default; with
``PASSIVE`` torch's second thread sleeps after every parallel region and is
woken for the next, which costs small operators much of their two-thread
gain. On an idle machine ``OMP_WAIT_POLICY=default`` runs skser with GNU
OpenMP's default (the variable is removed before torch starts), the fairer
two-thread comparison there.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os

# before torch/OpenMP start: PASSIVE unless set; "default" leaves OpenMP's own default
if os.environ.get("OMP_WAIT_POLICY", "").lower() == "default":
    del os.environ["OMP_WAIT_POLICY"]
else:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_keras_worker.py"
sys.path.insert(0, str(HERE))

# The worker imports only the standard library at module level (TensorFlow inside its
# functions), so both sides share its timing rule.
from _keras_worker import _median_ms  # noqa: E402
N_CLASSES = {"lightsernet": 7, "timnet": 8}
TIMNET_SIGNAL_LENGTH = 110000
MODELS = ("lightsernet", "timnet")
LABELS = {"lightsernet": "Light-SERNet", "timnet": "TIM-Net"}
INPUTS = {"lightsernet": "3 s waveform, 184x40 MFCC",
          "timnet": "110 000-sample (5.0 s) waveform, 215x39 MFCC"}
FIGURE_TEXT = {
    "model_b1": "batch 1, model only",
    "e2e_b1": "batch 1, end to end",
    "front_b1": "front end only, batch 1",
    "model_b32": "batch 32, model only",
    "e2e_b32": "batch 32, end to end",
    "epoch": "training epoch",
}
QUICK = {"max_clips": 48, "rounds": 2, "repeats": 5, "repeats32": 2, "fits": 1, "epochs": 2}


# -- arguments ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keras-python", type=Path, required=True,
                   help="python of the TensorFlow venv (tensorflow-cpu, tf-keras, librosa, "
                        "pandas, matplotlib, tqdm)")
    p.add_argument("--lightsernet-repo", type=Path, required=True,
                   help="checkout of AryaAftab/LIGHT-SERNET")
    p.add_argument("--timnet-repo", type=Path, required=True,
                   help="checkout of Jiaxin-Ye/TIM-Net_SER")
    p.add_argument("--data", type=Path, default=os.environ.get("SKSER_DATA"),
                   help="folder with emodb-2s/ and ravdess/ (default: $SKSER_DATA)")
    p.add_argument("--threads", type=int, nargs="+", default=[1], metavar="N",
                   help="thread counts for the batch-32 and training figures (default 1; "
                        "e.g. 1 2); batch-1 figures always use one thread")
    p.add_argument("--rounds", type=int, default=5, help="interleaved latency rounds (default 5)")
    p.add_argument("--repeats", type=int, default=20,
                   help="calls per batch-1 figure and round (default 20)")
    p.add_argument("--repeats32", type=int, default=4,
                   help="calls per batch-32 figure and round (default 4)")
    p.add_argument("--fits", type=int, default=2,
                   help="training fits per model, side and thread count (default 2)")
    p.add_argument("--epochs", type=int, default=4,
                   help="epochs per fit; the first is dropped (default 4)")
    p.add_argument("--max-clips", type=int, default=None,
                   help="use at most this many clips per corpus (spread over the corpus)")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--no-train", action="store_true", help="latency figures only")
    p.add_argument("--no-batch1", action="store_true",
                   help="skip the one-thread batch-1 figures (e.g. for a second run with "
                        "--threads 2)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run of about 2-3 minutes: " + ", ".join(
                       f"{k}={v}" for k, v in QUICK.items()))
    p.add_argument("--workdir", type=Path, default=None,
                   help="keep inputs and the Keras worker's logs here (features are reused "
                        "when present); default: a temporary folder")
    p.add_argument("--out", type=Path, default=None,
                   help="write the raw results (.json) or the table (.md)")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    if args.data is None:
        parser.error("no corpus folder: pass --data or set $SKSER_DATA")
    for flag in ("rounds", "repeats", "repeats32", "fits"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag} must be at least 1, got {getattr(args, flag)}")
    if args.epochs < 2:
        parser.error(f"--epochs must be at least 2 (the first epoch is dropped), got {args.epochs}")
    if any(n < 1 for n in args.threads):
        parser.error(f"--threads must be positive, got {args.threads}")
    args.threads = sorted(set(args.threads))
    return args


# -- summary and table (no torch, no tensorflow) --------------------------------------


def summarise(per_round: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Median per side and median per-round ratio skser / Keras of every figure.

    ``per_round[key] = {"skser": [...], "keras": [...], "skser_cpu": [...],
    "keras_cpu": [...]}``, one value per round (or fit), rounds paired by
    position; wall times, and process CPU times (optional).
    """
    out = {}
    for key, sides in per_round.items():
        row = {}
        for suffix in ("", "_cpu"):
            s, k = sides.get("skser" + suffix, []), sides.get("keras" + suffix, [])
            n = min(len(s), len(k))
            if n == 0:
                continue
            row.update({"skser" + suffix: statistics.median(s),
                        "keras" + suffix: statistics.median(k),
                        "ratio" + suffix: statistics.median(a / b for a, b in zip(s[:n], k[:n]))})
            if not suffix:
                row["n"] = n
        if "ratio" in row:
            out[key] = row
    return out


def figure_key(model: str, figure: str, threads: int) -> str:
    return f"{model}/{figure}/t{threads}"


def row_label(model: str, figure: str, threads: int, meta: dict) -> str:
    name = LABELS[model]
    what = FIGURE_TEXT[figure]
    thr = f"{threads} thread{'s' if threads > 1 else ''}"
    if figure == "epoch":
        n = meta.get("n_train", {}).get(model, "?")
        clips = ("EMO-DB 2 s copy, 3 s input, batch 32" if model == "lightsernet"
                 else "RAVDESS, 215x39, batch 64")
        return f"{name}, {what}, {n} clips ({clips}), {thr}"
    return f"{name}, {what}, {thr} ({INPUTS[model]})"


def _fmt_value(row: dict, side: str, unit: str) -> str:
    text = f"{row[side]:.2f} {unit}"
    if side + "_cpu" in row:
        text += f" ({row[side + '_cpu']:.2f})"
    return text


def markdown(results: dict) -> str:
    """The Markdown report: header lines and one table row per figure."""
    meta = results["meta"]
    summary = results["summary"]
    lines = [
        (f"Measured {meta['date']} on {meta['hardware']}; load average (1 min) "
        f"{meta['load_min']:.1f}-{meta['load_max']:.1f} over the rounds."),
        (f"skser {meta['skser']}, torch {meta['torch']}, skorch {meta['skorch']}, librosa "
        f"{meta['librosa']}, numpy {meta['numpy']}, OMP_WAIT_POLICY={meta['omp_wait_policy']}."),
        (f"Keras side: Python {meta['keras'].get('python')}, tensorflow-cpu "
        f"{meta['keras'].get('tensorflow')} with tf-keras {meta['keras'].get('tf_keras')} "
        f"(TF_USE_LEGACY_KERAS=1; tf.keras from {meta['keras'].get('keras_in_use')}), librosa "
        f"{meta['keras'].get('librosa')}, numpy "
        f"{meta['keras'].get('numpy')}; originals {meta['lightsernet_repo']} and "
        f"{meta['timnet_repo']}."),
        (f"{meta['rounds']} interleaved latency rounds (median of {meta['repeats']} calls per "
        f"figure and round, batch 32: {meta['repeats32']}); training: {meta['fits']} "
        f"alternating fit{'s' if meta['fits'] > 1 else ''} of {meta['epochs']} epochs per "
        f"side (median of epochs 2-{meta['epochs']}); {meta['n_train_text']}. Wall time "
        "(process CPU time in "
        "brackets); skser / Keras is the median of the per-round (per-fit) ratios."),
        "",
        "| figure | Keras original | skser | skser / Keras | skser / Keras, CPU time |",
        "|---|---|---|---|---|",
    ]
    for model, figure, threads in results["rows"]:
        key = figure_key(model, figure, threads)
        if key not in summary:
            continue
        s = summary[key]
        unit = "s" if figure == "epoch" else "ms"
        cpu_ratio = f"{s['ratio_cpu']:.2f}" if "ratio_cpu" in s else "n/a"
        lines.append(f"| {row_label(model, figure, threads, meta)} | "
                     f"{_fmt_value(s, 'keras', unit)} | {_fmt_value(s, 'skser', unit)} "
                     f"| {s['ratio']:.2f} | {cpu_ratio} |")
    agreement = meta.get("front_agreement")
    if agreement:
        lines += ["", "Front ends on the latency waveform, skser against the original "
                  "(max |difference| / max |original|): " + ", ".join(
                      f"{LABELS[m]} {v:.1e}" for m, v in agreement.items()) + "."]
    return "\n".join(lines)


def table_rows(models: list[str], threads: list[int], train: bool,
               batch1: bool = True) -> list[tuple[str, str, int]]:
    rows = [(m, f, 1) for m in models for f in ("model_b1", "e2e_b1", "front_b1") if batch1]
    rows += [(m, f, n) for n in threads for m in models for f in ("model_b32", "e2e_b32")]
    if train:
        rows += [(m, "epoch", n) for n in threads for m in models]
    return rows


# -- environment --------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def checkout_id(repo: Path, name: str) -> str:
    """``name @commit`` (with ``, modified`` when the work tree differs), or why not."""
    commit = _git(repo, "rev-parse", "--short=7", "HEAD")
    if commit is None:
        return f"{name} (commit unknown: not a git checkout)"
    dirty = _git(repo, "status", "--porcelain", "--untracked-files=no")
    return f"`{name}` @{commit}" + (", modified" if dirty else "")


def skser_id(skser: Any) -> str:
    """skser's version and the commit of the checkout it was imported from."""
    where = Path(skser.__file__).resolve().parent
    commit = _git(where, "rev-parse", "--short=7", "HEAD")
    if commit is None:
        return skser.__version__
    dirty = _git(where, "status", "--porcelain", "--untracked-files=no", "--", ".")
    return f"{skser.__version__} @{commit}" + (", skser/ modified" if dirty else "")


def hardware() -> str:
    model = platform.processor() or platform.machine()
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = line
                break
    except OSError:
        pass
    avx = " (AVX-512)" if "avx512f" in flags else ""
    return f"{os.cpu_count()}-core {platform.machine()} CPU {model}{avx}, no GPU"


def corpus_files(root: Path, max_clips: int | None) -> tuple[list[str], list[str]]:
    emodb = sorted((root / "emodb-2s").glob("wav/*.flac"))
    ravdess = sorted((root / "ravdess").glob("Actor_*/*.flac"))
    for name, files in (("emodb-2s/wav/*.flac", emodb), ("ravdess/Actor_*/*.flac", ravdess)):
        if not files:
            raise SystemExit(f"error: no files match {root / name}; pass --data (or set "
                             "$SKSER_DATA) to the folder that holds emodb-2s/ and ravdess/.")

    def spread(files: list[Path]) -> list[str]:
        if max_clips is None or len(files) <= max_clips:
            return [str(f) for f in files]
        idx = np.linspace(0, len(files) - 1, max_clips).round().astype(int)
        return [str(files[i]) for i in idx]

    return spread(emodb), spread(ravdess)


# -- the Keras side ---------------------------------------------------------------------


class KerasWorker:
    """A ``_keras_worker.py`` process with a fixed thread count, driven by JSON lines."""

    def __init__(self, args: argparse.Namespace, threads: int, workdir: Path):
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2",
                   MPLBACKEND="Agg", OMP_NUM_THREADS=str(threads),
                   OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        self.log_path = workdir / f"keras_worker_t{threads}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [str(args.keras_python), str(WORKER), "--threads", str(threads),
             "--lightsernet-repo", str(args.lightsernet_repo),
             "--timnet-repo", str(args.timnet_repo), "--workdir", str(workdir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            env=env)
        self._answer()

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"the Keras worker stopped (exit {self.proc.returncode}); "
                               f"its log {self.log_path} ends with:\n{self._log_tail()}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the Keras worker failed:\n{answer['error']}")
        return answer

    def _log_tail(self) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text().splitlines()[-30:])

    def __call__(self, cmd: str, **kw: Any) -> dict:
        self.proc.stdin.write(json.dumps({"cmd": cmd, **kw}) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
        self._log.close()


# -- the skser side ------------------------------------------------------------------------


class SkserSide:
    """skser's estimators on the same inputs as the worker."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.latency_setup: dict[tuple[str, int], dict] = {}

    def _model(self, name: str, **kw: Any):
        from skser.models import LightSERNet, TIMNet

        if name == "lightsernet":
            return LightSERNet(lr=1e-4, loss="focal", focal_gamma=2.0, batch_size=32,
                               classes=list(range(N_CLASSES[name])), **kw)
        return TIMNet(batch_size=64, classes=list(range(N_CLASSES[name])), **kw)

    def train_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        X = np.load(self.workdir / f"{name}_X.npy")
        if X.ndim == 4:  # Light-SERNet's channel axis
            X = X[..., 0]
        return np.ascontiguousarray(X, dtype=np.float32), np.load(self.workdir / f"{name}_y.npy")

    def _setup_latency(self, name: str, threads: int) -> dict:
        if (name, threads) in self.latency_setup:
            return self.latency_setup[(name, threads)]
        import torch
        from sklearn.pipeline import make_pipeline

        from skser.features import MFCC

        front = (MFCC.light_sernet(duration=3.0) if name == "lightsernet"
                 else MFCC.timnet(duration=TIMNET_SIGNAL_LENGTH / 22050))
        w1 = list(np.load(self.workdir / f"{name}_wave.npy"))
        w32 = list(np.load(self.workdir / f"{name}_waves32.npy"))
        X, y = self.train_data(name)
        model = self._model(name, max_epochs=1, random_state=0, n_threads=threads).fit(
            X[:64], y[:64])
        pipe = make_pipeline(front, model)
        f1 = front.fit(w1).transform(w1)
        np.save(self.workdir / f"{name}_skser_front_b1.npy", f1)
        module = model.module_.eval()
        x1 = torch.as_tensor(np.asarray(f1, dtype=np.float32))
        x32 = torch.as_tensor(np.asarray(front.transform(w32), dtype=np.float32))

        def forward(x):
            def run():
                with torch.inference_mode():
                    return module(x)
            return run

        fns = {"front_b1": lambda: front.transform(w1), "model_b1": forward(x1),
               "e2e_b1": lambda: pipe.predict(w1), "model_b32": forward(x32),
               "e2e_b32": lambda: pipe.predict(w32)}
        self.latency_setup[(name, threads)] = fns
        return fns

    def latency(self, figures: dict[str, list[str]], threads: int, repeats: int,
                repeats32: int) -> dict:
        import torch
        from threadpoolctl import threadpool_limits

        out = {}
        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads):
            for name, figs in figures.items():
                fns = self._setup_latency(name, threads)
                for fig in figs:
                    wall, cpu = _median_ms(fns[fig], repeats32 if fig.endswith("b32") else repeats)
                    out[f"{name}/{fig}"] = {"wall": wall, "cpu": cpu}
        return out

    def train(self, name: str, epochs: int, threads: int, seed: int) -> dict:
        from skorch.callbacks import Callback
        from threadpoolctl import threadpool_limits

        wall: list[float] = []
        cpu: list[float] = []

        class EpochTimer(Callback):
            """Epoch wall/CPU time, from before skser's callbacks to after its scoring."""

            def on_epoch_begin(self, net, **kw):
                self._c0, self._t0 = time.process_time(), time.perf_counter()

            def on_epoch_end(self, net, **kw):
                wall.append(time.perf_counter() - self._t0)
                cpu.append(time.process_time() - self._c0)

        X, y = self.train_data(name)
        with threadpool_limits(limits=threads):
            self._model(name, max_epochs=epochs, random_state=seed, n_threads=threads,
                        verbose=0, callbacks=[("side_by_side_timer", EpochTimer())]).fit(X, y)
        return {"wall": wall, "cpu": cpu, "n": len(X)}


# -- driver -------------------------------------------------------------------------------


def write_inputs(workdir: Path) -> None:
    """The latency waveforms, shared by both sides."""
    from bench_models import speechlike

    for name, sr, n in (("lightsernet", 16000, 48000), ("timnet", 22050, TIMNET_SIGNAL_LENGTH)):
        waves = np.stack([speechlike(n / sr, sr, seed=i)[:n] for i in range(32)])
        np.save(workdir / f"{name}_wave.npy", waves[:1])
        np.save(workdir / f"{name}_waves32.npy", waves)


def _record(per_round: dict, side: str, threads: int, answer: dict) -> None:
    for key, val in answer.items():
        model, fig = key.split("/")
        per_round.setdefault(figure_key(model, fig, threads),
                             {"skser": [], "keras": [], "skser_cpu": [], "keras_cpu": []})
        per_round[figure_key(model, fig, threads)][side].append(val["wall"])
        per_round[figure_key(model, fig, threads)][side + "_cpu"].append(val["cpu"])


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}", file=sys.stderr,
          flush=True)


def run(args: argparse.Namespace, workdir: Path) -> dict:
    import librosa
    import skorch
    import torch

    import skser

    t_start = time.perf_counter()
    date, skser_at_start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), skser_id(skser)
    write_inputs(workdir)
    emodb, ravdess = corpus_files(Path(args.data), args.max_clips)
    per_round: dict[str, dict[str, list[float]]] = {}
    loads: list[tuple[str, list[float]]] = []
    skser_side = SkserSide(workdir)
    phases = sorted(set(args.threads if args.no_batch1 else [1, *args.threads]))
    keras_meta: dict = {}
    n_train: dict[str, int] = {}
    for threads in phases:
        _log(f"starting the Keras worker with {threads} thread(s)")
        worker = KerasWorker(args, threads, workdir)
        try:
            versions = worker("versions")
            keras_meta.setdefault("pools", {})[threads] = {
                k: versions.pop(k) for k in ("intra_op", "inter_op")}
            keras_meta.update(versions)
            if threads == phases[0]:
                _log(f"training tensors by the originals' preprocessing ({len(emodb)} EMO-DB, "
                     f"{len(ravdess)} RAVDESS clips)")
                # On one thread: more threads only slow librosa/soxr down on a busy machine.
                prep = worker if threads == 1 else KerasWorker(args, 1, workdir)
                try:
                    _log(f"features: {prep('features', emodb_files=emodb, ravdess_files=ravdess)}")
                finally:
                    if prep is not worker:
                        prep.close()
            figures = {m: [] for m in args.models}
            for m in args.models:
                if threads == 1 and not args.no_batch1:
                    figures[m] += ["model_b1", "e2e_b1", "front_b1"]
                if threads in args.threads:
                    figures[m] += ["model_b32", "e2e_b32"]
            for r in range(args.rounds):
                loads.append((f"latency t{threads} round {r + 1}", list(os.getloadavg())))
                order = ("skser", "keras") if r % 2 == 0 else ("keras", "skser")
                for side in order:
                    if side == "skser":
                        ans = skser_side.latency(figures, threads, args.repeats, args.repeats32)
                    else:
                        ans = worker("latency", figures=figures, repeats=args.repeats,
                                     repeats32=args.repeats32)
                    _record(per_round, side, threads, ans)
                _log(f"latency round {r + 1}/{args.rounds} ({threads} thread(s)) done")
            if threads in args.threads and not args.no_train:
                for f in range(args.fits):
                    for i, m in enumerate(args.models):
                        loads.append((f"train t{threads} {m} fit {f + 1}",
                                      list(os.getloadavg())))
                        order = ("skser", "keras") if (f + i) % 2 == 0 else ("keras", "skser")
                        for side in order:
                            ans = (skser_side.train(m, args.epochs, threads, seed=f)
                                   if side == "skser"
                                   else worker("train", model=m, epochs=args.epochs, seed=f))
                            n_train[m] = ans["n"]
                            ans = {f"{m}/epoch": {"wall": statistics.median(ans["wall"][1:]),
                                                  "cpu": statistics.median(ans["cpu"][1:])}}
                            _record(per_round, side, threads, ans)
                        so_far = per_round[figure_key(m, "epoch", threads)]
                        _log(f"fit {f + 1}/{args.fits} of {m} ({threads} thread(s)) done: "
                             f"{ {k: v for k, v in so_far.items() if v} }")
        finally:
            worker.close()
    loads.append(("end", list(os.getloadavg())))

    agreement = {}
    for m in args.models:
        a = np.load(workdir / f"{m}_skser_front_b1.npy")
        b = np.load(workdir / f"{m}_keras_front_b1.npy").reshape(a.shape)
        agreement[m] = float(np.abs(a - b).max() / np.abs(b).max())
    load1 = [v[0] for _, v in loads]
    meta = {
        "date": f"{date} to {time.strftime('%H:%M UTC', time.gmtime())}",
        "wall_minutes": (time.perf_counter() - t_start) / 60,
        "hardware": hardware(),
        "load_min": min(load1), "load_max": max(load1), "loads": loads,
        "skser": skser_at_start,
        "torch": torch.__version__, "skorch": skorch.__version__,
        "librosa": librosa.__version__, "numpy": np.__version__,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset (OpenMP's default)"),
        "keras": keras_meta,
        "lightsernet_repo": checkout_id(args.lightsernet_repo, "AryaAftab/LIGHT-SERNET"),
        "timnet_repo": checkout_id(args.timnet_repo, "Jiaxin-Ye/TIM-Net_SER"),
        "rounds": args.rounds, "repeats": args.repeats, "repeats32": args.repeats32,
        "fits": args.fits, "epochs": args.epochs, "threads": args.threads,
        "n_train": n_train,
        "n_train_text": (f"training data {len(emodb)} EMO-DB (2 s copy) and {len(ravdess)} "
                         "RAVDESS clips"),
        "front_agreement": agreement,
        "argv": sys.argv[1:],
    }
    rows = table_rows(args.models, args.threads, not args.no_train, not args.no_batch1)
    return {"meta": meta, "rows": rows,
            "per_round": per_round, "summary": summarise(per_round)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for flag in ("keras_python", "lightsernet_repo", "timnet_repo"):
        if not getattr(args, flag).exists():
            raise SystemExit(f"error: --{flag.replace('_', '-')} {getattr(args, flag)} "
                             "does not exist")
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        results = run(args, args.workdir.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="skser-keras-") as tmp:
            results = run(args, Path(tmp))
    table = markdown(results)
    print(table)
    _log(f"done in {results['meta']['wall_minutes']:.1f} min")
    if args.out is not None:
        if args.out.suffix == ".md":
            args.out.write_text(table + "\n")
        else:
            args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
