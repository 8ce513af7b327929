"""Fusion seed table: FusionNet (MFCC temporal branch + speech-encoder embedding) of the four-corpus report.

The report pools RAVDESS, CREMA-D, TESS and SAVEE into six emotions (neutral,
happiness, sadness, anger, fear, disgust) and reports accuracy (WA) on one
random validation split: about 51 % for its TIM-Net-inspired MFCC branch
alone and 70.45 % for the fusion with mean-pooled wav2vec2-base embeddings.

Systems:

- ``FusionNet(use_embedding=True)`` on ``FeatureDict(mfcc=MFCC(13, deltas=2,
  sr=22050, n_frames=162), embedding=SpeechEncoder(PATH))``: the report's
  model; only with ``--encoder PATH`` (a local HuggingFace checkpoint, e.g. a
  ``save_pretrained`` copy of ``facebook/wav2vec2-base``). Model hubs are not
  reachable here, so without it this row is not run and the table says so.
- ``FusionNet(use_embedding=False)``: the MFCC branch alone (the report's
  baseline), always.
- the classical floors.

Training: the report's framework defaults (Keras Adam 1e-3, batch 32), a
fixed number of epochs, the last one scored.

Protocols:

- paper: a random stratified 80/20 split over utterances (speaker-dependent);
  the report used one such split, here the 5 folds of a stratified 5-fold
  (``--folds 1`` is the report's single split).
- leave-one-speaker-out (speakers of the pooled corpora, ``ravdess:01``, ...).

Corpora: RAVDESS from ``<data>/ravdess``; CREMA-D, TESS and SAVEE with
``--cremad``, ``--tess``, ``--savee`` PATH (only RAVDESS audio is shared here,
so the default table covers one of the report's four corpora and says so).

Usage::

    python benchmarks/seed_tables/fusion.py --out results/fusion [--epochs 50]
        [--encoder PATH] [--cremad PATH] [--tess PATH] [--savee PATH] [--folds N] [--quick]
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h

from skser.datasets import load_pooled
from skser.features import MFCC, FeatureDict
from skser.models import FusionNet

MFCC_REPORT = {"n_mfcc": 13, "deltas": 2, "sr": 22050, "n_frames": 162}  # 39 x 162, the report's input
PAPER_FUSION = "WA 70.45 (4 corpora pooled, one random split)"
PAPER_MFCC_ONLY = "WA ~51 (4 corpora pooled, one random split)"


def fusion(encoder: str | None) -> h.System:
    """FusionNet with both branches (``encoder`` given) or its MFCC branch alone."""
    if encoder:
        from skser.features import SpeechEncoder

        return h.System(
            "FusionNet, MFCC branch + encoder embedding",
            f"fusion_mfcc_embedding_{Path(encoder).name}",
            lambda: FeatureDict(mfcc=MFCC(**MFCC_REPORT), embedding=SpeechEncoder(encoder, batch_size=8)),
            lambda e, d, s: FusionNet(use_embedding=True, batch_size=32, **h.neural_kwargs(e, d, s)),
        )
    return h.System(
        "FusionNet, MFCC branch only",
        "fusion_mfcc",
        lambda: FeatureDict(mfcc=MFCC(**MFCC_REPORT)),
        lambda e, d, s: FusionNet(use_embedding=False, batch_size=32, **h.neural_kwargs(e, d, s)),
    )


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.split("\n\n")[0], default_epochs=50)
    p.add_argument("--encoder", default=None,
                   help="local HuggingFace speech-encoder checkpoint (folder) for the embedding branch")
    for name in ("cremad", "tess", "savee"):
        p.add_argument(f"--{name}", default=None, help=f"{name.upper()} folder (pooled with RAVDESS)")
    args = h.finish_args(p.parse_args(argv))
    ravdess = Path(args.data) / "ravdess" if args.data else None
    if ravdess is not None and not ravdess.is_dir():
        ravdess = None
    if not any((ravdess, args.cremad, args.tess, args.savee)):
        print("No corpus: pass --data (or set SKSER_DATA) with ravdess/, or --cremad/--tess/--savee.",
              file=sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the missing corpora are named in the notes
        bunch = load_pooled(ravdess, args.cremad, args.tess, args.savee)
    copy = f"{' + '.join(c.upper() if c != 'cremad' else 'CREMA-D' for c in bunch.corpora)}, 6 emotions"
    corpus = h.corpus_from_bunch("pooled_" + "_".join(bunch.corpora), copy, bunch, args.quick)
    floors, notes = h.floor_systems(args.n_jobs)
    missing = ", ".join(bunch.missing) if bunch.missing else "none"
    notes = [h.PROTOCOL_NOTE,
             f"Corpora pooled: {', '.join(bunch.corpora)}; missing from the report's four: {missing}. "
             "The paper column is the report's four-corpus number, for reference only.",
             f"The report's training budget is not stated; this run {args.epochs} epochs (Adam 1e-3, batch 32).",
             *notes]
    systems = [fusion(None)]
    if args.encoder:
        systems.insert(0, fusion(args.encoder))
        notes.append(f"Encoder branch: the local checkpoint `{Path(args.encoder).name}` (mean-pooled last "
                     "hidden state); the report used facebook/wav2vec2-base.")
    else:
        notes.append("FusionNet with the encoder branch (the report's model, WA 70.45) was not run: no "
                     "pretrained encoder weights are available offline (pass --encoder PATH to a local "
                     "HuggingFace checkpoint). Only its MFCC branch ran.")
    protocols = [h.random_kfold(5, 0, stratified=True,
                                label="paper: random stratified 80/20 split (5-fold; the report used one "
                                      "such split), speaker-dependent"),
                 h.leave_one_speaker_out()]
    networks = [(system, PAPER_FUSION if "embedding" in system.name else PAPER_MFCC_ONLY)
                for system in systems]
    cells = h.table_cells(protocols, networks, floors)
    rows = h.run_cells(cells, corpus, args)
    h.write_table(f"fusion_{corpus.name}", f"FusionNet (four-corpus report), {copy}", rows, notes, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
