"""CREMA-D seed trials: the 1-D CNN (Kaggle) and the 2-D CNN (log-mel) on CREMA-D, by path.

Systems: ``MFCC(20) + Functionals()`` (100-dim vectors; the notebook's
162-dim vector is not reproduced) -> ``CNN1D``; ``LogMel(128, duration=3)``
-> ``CNN2D``; next to the classical floor. Protocols: a random stratified
4-fold over utterances (the seeds' random 75/25 splits, speaker-dependent;
last epoch scored) and leave-one-speaker-out (91 actors; ``--folds`` limits it).

CREMA-D audio is not shipped with skser's shared data (only its metadata):
pass ``--cremad PATH`` (the ``AudioWAV`` folder or above). Without it the
script says so and exits 0.

Usage::

    python benchmarks/seed_tables/cremad_cnns.py --cremad PATH --out results/cremad
        [--epochs 50] [--folds N] [--quick]
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h
from sklearn.pipeline import make_pipeline

from skser.datasets import load_cremad
from skser.features import MFCC, Functionals, LogMel
from skser.models import CNN1D, CNN2D


def systems() -> list[h.System]:
    return [
        h.System("CNN1D on MFCC functionals", "mfcc20_functionals",
                 lambda: make_pipeline(MFCC(20), Functionals()),
                 lambda e, d, s: CNN1D(**h.neural_kwargs(e, d, s))),
        h.System("CNN2D on log-mel", "logmel128_3s", lambda: LogMel(128, duration=3.0),
                 lambda e, d, s: CNN2D(**h.neural_kwargs(e, d, s))),
    ]


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.split("\n\n")[0], default_epochs=50)
    p.add_argument("--cremad", default=None, help="CREMA-D audio folder (AudioWAV or above)")
    args = h.finish_args(p.parse_args(argv))
    if not args.cremad or not Path(args.cremad).is_dir():
        print("CREMA-D audio not given (--cremad PATH): skser's shared data holds only its "
              "metadata, so there is nothing to run. Nothing was written.")
        return 0
    floors, notes = h.floor_systems(args.n_jobs)
    notes = [h.PROTOCOL_NOTE, "The seeds' CREMA-D trials report no CREMA-D-only number to compare with.",
             *notes]
    corpus = h.corpus_from_bunch("cremad", "CREMA-D (6 classes)", load_cremad(args.cremad), args.quick)
    protocols = [h.random_kfold(4, 0, stratified=True, label="random stratified 4-fold (speaker-dependent)"),
                 h.leave_one_speaker_out()]
    cells = [h.Cell(s, pr) for pr in protocols for s in (*systems(), *floors)]
    rows = h.run_cells(cells, corpus, args)
    h.write_table("cremad_cnns", "CNN1D and CNN2D, CREMA-D", rows, notes, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
