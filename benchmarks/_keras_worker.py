"""The Keras side of ``benchmarks/keras_side_by_side.py``; runs in a TensorFlow venv.

Not part of skser and never imported by it: ``keras_side_by_side.py`` starts
this file with the Python of a separate virtual environment that has
``tensorflow-cpu``, ``tf-keras``, ``librosa``, ``pandas``, ``matplotlib`` and
``tqdm`` (the imports of the original code). It imports only the standard
library, numpy, tensorflow, librosa and the user's own, unchanged checkouts of
the original implementations (``--lightsernet-repo``, ``--timnet-repo``, put
on ``sys.path``):

* Light-SERNet (``AryaAftab/LIGHT-SERNET``): ``models.Light_SERNet_V1``,
  ``loss.SparseCategoricalFocalLoss``, ``callbacks.LearningRateScheduler``,
  ``hyperparameters``, the front end of ``dataio.py`` (``get_spectrogram`` ->
  ``get_mel_spectrogram`` -> ``get_mfcc``) and the segmentation of
  ``utils/segment/utils.py`` (``trim_wave``, ``normalize``: p99.9 scaling,
  clipping, centre zero-padding);
* TIM-Net (``Jiaxin-Ye/TIM-Net_SER``): ``Model.TIMNET_Model.create_model`` (its
  compile) and ``Model.smooth_labels``; ``get_feature`` of
  ``extract_feature.py`` (that file runs a whole extraction when imported, so
  only the function's source is compiled, with a ``librosa`` whose ``load``
  also passes an in-memory waveform through unchanged).

Protocol: one JSON command per line on stdin, one JSON answer per line on the
original stdout; everything that TensorFlow or the original code prints goes
to stderr. Thread counts are fixed for the life of the process (TensorFlow
cannot change them after start-up).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import traceback
import types
from pathlib import Path

EMODB_CODES = "WLEAFTN"  # anger boredom disgust fear happiness sadness neutral
RAVDESS_CLASSES = 8
LIGHTSERNET_SECONDS = 3.0
TIMNET_SIGNAL_LENGTH = 110000  # the original's RAVDESS mean_signal_length


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Keras side of keras_side_by_side.py")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--lightsernet-repo", type=Path, required=True)
    p.add_argument("--timnet-repo", type=Path, required=True)
    p.add_argument("--workdir", type=Path, required=True)
    return p.parse_args(argv)


def _median_ms(fn, repeats: int, warmup: int = 3) -> tuple[float, float]:
    """Median wall and process-CPU time of ``fn()`` in ms (the driver times skser with it too)."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return 1000 * statistics.median(wall), 1000 * statistics.median(cpu)


class Originals:
    """The original code, imported from the user's checkouts."""

    def __init__(self, lightsernet_repo: Path, timnet_repo: Path):
        import librosa
        import numpy as np

        sys.path.insert(0, str(lightsernet_repo))
        sys.path.insert(0, str(timnet_repo / "Code"))
        import callbacks as ls_callbacks
        import dataio as ls_dataio
        import hyperparameters as ls_hp
        import loss as ls_loss
        import Model as tim_model
        import models as ls_models

        self.ls_callbacks, self.ls_dataio, self.ls_hp = ls_callbacks, ls_dataio, ls_hp
        self.ls_loss, self.ls_models, self.tim_model = ls_loss, ls_models, tim_model
        spec = importlib.util.spec_from_file_location(
            "lightsernet_segment_utils", lightsernet_repo / "utils" / "segment" / "utils.py")
        self.ls_segment = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.ls_segment)

        class _Librosa(types.SimpleNamespace):
            """librosa, with ``load`` also accepting a waveform already at 22.05 kHz."""

            @staticmethod
            def load(path_or_wave, *args, **kwargs):
                if isinstance(path_or_wave, np.ndarray):
                    return path_or_wave, 22050
                return librosa.load(path_or_wave, *args, **kwargs)

        namespace = {"np": np, "librosa": _Librosa(feature=librosa.feature)}
        source = (timnet_repo / "Code" / "extract_feature.py").read_text()
        node = next(n for n in ast.parse(source).body
                    if isinstance(n, ast.FunctionDef) and n.name == "get_feature")
        exec(compile(ast.Module(body=[node], type_ignores=[]),
                     str(timnet_repo / "Code" / "extract_feature.py"), "exec"), namespace)
        self.tim_get_feature = namespace["get_feature"]


class Worker:
    def __init__(self, args: argparse.Namespace):
        import numpy as np
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
        self.np, self.tf = np, tf
        self.threads = args.threads
        self.workdir = args.workdir
        self.orig = Originals(args.lightsernet_repo, args.timnet_repo)
        self.latency_setup: dict = {}

    # -- helpers ------------------------------------------------------------------

    def _tf_data_options(self):
        options = self.tf.data.Options()
        options.threading.private_threadpool_size = self.threads
        return options

    def ls_segments(self, waves):
        """Their segmentation: centre trim to 3 s, p99.9 normalisation, centre zero-pad."""
        seg = self.orig.ls_segment
        n = int(LIGHTSERNET_SECONDS * self.orig.ls_hp.SAMPLE_RATE)
        return self.np.stack([seg.normalize(seg.trim_wave(w, n, 1), n) for w in waves]
                             ).astype(self.np.float32)

    def ls_front(self, x):
        d = self.orig.ls_dataio
        return self.tf.expand_dims(d.get_mfcc(d.get_mel_spectrogram(d.get_spectrogram(x))), -1)

    def tim_features(self, waves):
        return self.np.stack([self.orig.tim_get_feature(w, mean_signal_length=TIMNET_SIGNAL_LENGTH)
                              for w in waves]).astype(self.np.float32)

    def ls_model(self):
        return self.orig.ls_models.Light_SERNet_V1(len(EMODB_CODES), LIGHTSERNET_SECONDS, "mfcc")

    def tim_model(self, input_shape):
        args = argparse.Namespace(  # main.py's defaults
            filter_size=39, kernel_size=2, stack_size=1, dilation_size=8, dropout=0.1,
            activation="relu", lr=0.001, beta1=0.93, beta2=0.98)
        m = self.orig.tim_model.TIMNET_Model(args=args, input_shape=input_shape,
                                             class_label=[str(i) for i in range(RAVDESS_CLASSES)])
        m.create_model()
        return m.model

    # -- commands -------------------------------------------------------------------

    def cmd_versions(self, _: dict) -> dict:
        import librosa
        import tf_keras

        return {"python": platform.python_version(), "tensorflow": self.tf.__version__,
                "tf_keras": tf_keras.__version__, "librosa": librosa.__version__,
                "numpy": self.np.__version__,
                "keras_in_use": self.tf.keras.layers.Dense.__module__.split(".")[0],
                "intra_op": self.tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op": self.tf.config.threading.get_inter_op_parallelism_threads()}

    def cmd_features(self, cmd: dict) -> dict:
        """Training tensors by the originals' preprocessing, saved to the workdir as .npy."""
        import librosa

        np = self.np
        out = {}
        targets = {"lightsernet": self.workdir / "lightsernet_X.npy",
                   "timnet": self.workdir / "timnet_X.npy"}
        if all(p.exists() for p in targets.values()):
            return {"cached": True, **{k: list(np.load(p, mmap_mode="r").shape)
                                       for k, p in targets.items()}}
        t0 = time.perf_counter()
        emodb = [Path(f) for f in cmd["emodb_files"]]
        waves = [librosa.load(f, sr=self.orig.ls_hp.SAMPLE_RATE)[0] for f in emodb]
        segments = self.ls_segments(waves)
        front = self.tf.function(self.ls_front)
        X = np.concatenate([front(segments[i:i + 64]).numpy()
                            for i in range(0, len(segments), 64)])
        y = np.array([EMODB_CODES.index(f.stem[5]) for f in emodb], dtype=np.int64)
        np.save(self.workdir / "lightsernet_y.npy", y)
        np.save(targets["lightsernet"], X)
        out["lightsernet"] = list(X.shape)
        ravdess = cmd["ravdess_files"]
        X = self.tim_features(ravdess)  # their get_feature: librosa.load at 22.05 kHz, crop/pad
        y = np.array([int(Path(f).stem.split("-")[2]) - 1 for f in ravdess], dtype=np.int64)
        np.save(self.workdir / "timnet_y.npy", y)
        np.save(targets["timnet"], X)
        out["timnet"] = list(X.shape)
        out["seconds"] = time.perf_counter() - t0
        return out

    def _setup_latency(self, name: str) -> dict:
        if name in self.latency_setup:
            return self.latency_setup[name]
        np, tf = self.np, self.tf
        w1 = np.load(self.workdir / f"{name}_wave.npy")
        w32 = np.load(self.workdir / f"{name}_waves32.npy")
        if name == "lightsernet":
            model = self.ls_model()
            front = tf.function(self.ls_front)
            e2e = tf.function(lambda x: model(self.ls_front(x), training=False))
            f1 = front(self.ls_segments(w1)).numpy()
            f32 = front(self.ls_segments(w32)).numpy()
            fns = {
                "front_b1": lambda: front(self.ls_segments(w1)).numpy(),
                "e2e_b1": lambda: e2e(self.ls_segments(w1)).numpy().argmax(-1),
                "e2e_b32": lambda: e2e(self.ls_segments(w32)).numpy().argmax(-1),
            }
        else:
            f1, f32 = self.tim_features(w1), self.tim_features(w32)
            model = self.tim_model(f1.shape[1:])
            fns = {
                "front_b1": lambda: self.tim_features(w1),
                "e2e_b1": lambda: forward(self.tim_features(w1)).numpy().argmax(-1),
                "e2e_b32": lambda: forward(self.tim_features(w32)).numpy().argmax(-1),
            }
        np.save(self.workdir / f"{name}_keras_front_b1.npy", f1)
        forward = tf.function(lambda x: model(x, training=False))
        x1, x32 = tf.constant(f1), tf.constant(f32)
        fns["model_b1"] = lambda: forward(x1).numpy()
        fns["model_b32"] = lambda: forward(x32).numpy()
        self.latency_setup[name] = fns
        return fns

    def cmd_latency(self, cmd: dict) -> dict:
        """One round: each figure's median of ``repeats`` calls (batch 32: ``repeats32``)."""
        out: dict = {}
        for name, figures in cmd["figures"].items():
            fns = self._setup_latency(name)
            for fig in figures:
                n = cmd["repeats32"] if fig.endswith("b32") else cmd["repeats"]
                wall, cpu = _median_ms(fns[fig], n)
                out[f"{name}/{fig}"] = {"wall": wall, "cpu": cpu}
        return out

    def cmd_train(self, cmd: dict) -> dict:
        """One fit of ``epochs`` epochs; wall and CPU seconds of each epoch."""
        np, tf = self.np, self.tf
        name, epochs = cmd["model"], int(cmd["epochs"])
        tf.keras.backend.clear_session()
        tf.random.set_seed(int(cmd.get("seed", 0)))
        X = np.load(self.workdir / f"{name}_X.npy")
        y = np.load(self.workdir / f"{name}_y.npy")
        wall: list[float] = []
        cpu: list[float] = []

        class EpochTimer(tf.keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self._c0, self._t0 = time.process_time(), time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                wall.append(time.perf_counter() - self._t0)
                cpu.append(time.process_time() - self._c0)

        if name == "lightsernet":  # train.py: compile, LR scheduler, tf.data cache-shuffle-batch
            hp = self.orig.ls_hp
            model = self.ls_model()
            model.compile(optimizer=tf.keras.optimizers.Adam(hp.LEARNING_RATE),
                          loss=self.orig.ls_loss.SparseCategoricalFocalLoss(gamma=hp.GAMMA),
                          metrics=["accuracy"])
            ds = (tf.data.Dataset.from_tensor_slices((X, y)).cache().shuffle(len(X))
                  .batch(hp.BATCH_SIZE).prefetch(tf.data.experimental.AUTOTUNE)
                  .with_options(self._tf_data_options()))
            model.fit(ds, epochs=epochs, verbose=0,
                      callbacks=[self.orig.ls_callbacks.LearningRateScheduler(), EpochTimer()])
        elif name == "timnet":  # Model.py: fit(x, smooth_labels(y, 0.1), batch_size=64)
            model = self.tim_model(X.shape[1:])
            onehot = np.eye(RAVDESS_CLASSES, dtype=np.float32)[y]
            model.fit(X, self.orig.tim_model.smooth_labels(onehot, 0.1), batch_size=64,
                      epochs=epochs, verbose=0, callbacks=[EpochTimer()])
        else:
            raise ValueError(f"unknown model {name!r}")
        return {"wall": wall, "cpu": cpu, "n": len(X)}


def main(argv: list[str] | None = None) -> int:
    # The protocol keeps the real stdout; every print (TensorFlow's, the originals') goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    args = _parse(argv)
    try:
        worker = Worker(args)
        proto.write(json.dumps({"ready": True}) + "\n")
    except Exception:
        proto.write(json.dumps({"error": traceback.format_exc()}) + "\n")
        return 1
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        try:
            answer = getattr(worker, "cmd_" + cmd["cmd"])(cmd)
        except Exception:
            answer = {"error": traceback.format_exc()}
        proto.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
