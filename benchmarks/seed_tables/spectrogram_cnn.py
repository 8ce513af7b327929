"""Spectrogram-CNN seed table: an ImageNet CNN fine-tuned on log-mel images (the DA221M report).

The report fine-tunes an ImageNet-pretrained EfficientNet-B7 (ResNet-50
compared) on spectrogram images, with a head of global average pooling,
a dense ReLU layer and a softmax output, class-weighted cross-entropy, and
reports accuracy 0.97 (macro recall 0.97) on 560 test clips of a random split
of SAVEE + CREMA-D + TESS + RAVDESS (7 classes).

System: ``LogMel(128) -> SpectrogramImage(size=(S, S), channels="repeat",
normalize="imagenet") -> SpectrogramCNN(backbone, hidden=256, dropout=0.3,
class_weight="balanced")`` (Adam 1e-3, batch 32), next to the classical
floors. Weights:

- ``--weights PATH``: a local pretrained checkpoint (a folder written by
  ``save_pretrained``, e.g. ``google/efficientnet-b0``): the report's method,
  backbone frozen for 2 epochs, then fine-tuned at a 10x lower learning rate;
- otherwise the backbone architecture (``--backbone``) from a random
  initialisation, labelled "from scratch" (no pretrained weights offline).

Protocols:

- paper: random stratified 5-fold over utterances (80/20 splits,
  speaker-dependent, as the report's random split; last epoch scored).
- leave-one-speaker-out.

Corpora: ``<data>/ravdess`` (RAVDESS speech, 8 classes; the one corpus of the
report's four whose audio is shared here) and ``<data>/emodb-2s``.

Usage::

    python benchmarks/seed_tables/spectrogram_cnn.py --out results/spectrogram [--epochs 30]
        [--backbone efficientnet-b0] [--weights PATH] [--size 224] [--corpora ravdess emodb]
        [--folds N] [--quick]
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h
from sklearn.pipeline import make_pipeline

from skser.features import LogMel, SpectrogramImage
from skser.models import SpectrogramCNN

PAPER = "accuracy 97 / macro recall 97 (EfficientNet-B7, ImageNet, 4 corpora pooled, random split)"
QUICK_SIZE = 32  # EfficientNet's smallest input


def spectrogram_cnn(backbone: str, weights: str | None, size: int) -> h.System:
    common = {"hidden": 256, "dropout": 0.3, "lr": 1e-3, "batch_size": 32, "class_weight": "balanced"}
    if weights:
        name = f"{backbone} (weights: {Path(weights).name}), fine-tuned"

        def model(e, d, s):
            return SpectrogramCNN(backbone=weights, pretrained=True, freeze="backbone", n_frozen_epochs=2,
                                  unfreeze="all", backbone_lr=1e-4, **common, **h.neural_kwargs(e, d, s))
    else:
        name = f"{backbone} from scratch (no pretrained weights)"

        def model(e, d, s):
            return SpectrogramCNN(backbone=backbone, pretrained=False, freeze=None, **common,
                                  **h.neural_kwargs(e, d, s))

    return h.System(
        name,
        f"logmel128_image{size}",
        lambda: make_pipeline(LogMel(n_mels=128, sr=16000),
                              SpectrogramImage(size=(size, size), channels="repeat", normalize="imagenet")),
        model,
    )


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.split("\n\n")[0], default_epochs=30)
    p.add_argument("--corpora", nargs="+", default=sorted(h.SHARED_CORPORA), choices=sorted(h.SHARED_CORPORA))
    p.add_argument("--backbone", default="efficientnet-b0",
                   help="architecture trained from scratch without --weights (default efficientnet-b0)")
    p.add_argument("--weights", default=None,
                   help="local pretrained backbone checkpoint (save_pretrained folder): the report's method")
    p.add_argument("--size", type=int, default=224, help="image height = width in pixels (default 224)")
    args = h.finish_args(p.parse_args(argv))
    size = QUICK_SIZE if args.quick else args.size
    floors, notes = h.floor_systems(args.n_jobs)
    notes = [h.PROTOCOL_NOTE,
             f"Images {size} x {size} (the report: EfficientNet-B7's 600 x 600); {args.epochs} epochs "
             "(the report's budget is not stated). The paper column is the report's four-corpus, "
             "7-class number, for reference only.", *notes]
    if not args.weights:
        notes.append("No pretrained weights are available offline: the CNN is trained from a random "
                     "initialisation, which is not the report's method (pass --weights PATH to a "
                     "local save_pretrained checkpoint).")
    def make_table(key: str, corpus: h.Corpus) -> None:
        protocols = [h.random_kfold(5, 0, stratified=True,
                                    label="paper: random stratified 5-fold (80/20, speaker-dependent)"),
                     h.leave_one_speaker_out()]
        cells = h.table_cells(protocols, [(spectrogram_cnn(args.backbone, args.weights, size), PAPER)],
                              floors)
        rows = h.run_cells(cells, corpus, args)
        h.write_table(f"spectrogram_cnn_{key}", f"Spectrogram CNN (DA221M report), {corpus.copy}", rows, notes, args)

    return h.for_each_corpus(args.corpora, lambda key: h.shared_corpus(key, args), make_table,
                             "pass --data or set SKSER_DATA")


if __name__ == "__main__":
    sys.exit(main())
