"""Light-SERNet seed tables: EMO-DB 3 s, CE and focal loss (table 2); IEMOCAP (table 1) by path.

Systems: ``MFCC.light_sernet(duration)`` -> ``LightSERNet(loss=...)`` with the
original's optimiser and schedule, next to the classical floor. Protocols:

- paper: random stratified 5-fold over utterances (every file tested once,
  80/20 splits, speaker-dependent). The paper drew 10 random 80/20 splits,
  pooled the predictions and kept the best epoch on the test files; here the
  last epoch is scored.
- leave-one-speaker-out.

EMO-DB is read from ``<data>/emodb-2s`` (the 2 s copy: every utterance cut or
zero-padded to 2 s, so the 3 s input is zero-padded). IEMOCAP rows (4 classes,
happiness + excitement merged; 3 s and 7 s; improvised and all) run only with
``--iemocap PATH``.

Usage::

    python benchmarks/seed_tables/lightsernet_emodb.py --out results/lsn [--epochs 300]
        [--folds N] [--quick] [--iemocap PATH] [--device cuda] [--n-jobs 2]
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h

from skser.datasets import load_iemocap
from skser.features import MFCC
from skser.models import LightSERNet

PAPER_EMODB = {"cross_entropy": "UAR 94.15 / WA 94.21", "focal": "UAR 92.88 / WA 93.08"}
PAPER_IEMOCAP = {  # (subset, seconds, loss): UAR / WA, article PDFs (reference §1.7)
    ("all", 3, "cross_entropy"): "UAR 65.81 / WA 65.37", ("all", 3, "focal"): "UAR 66.10 / WA 65.47",
    ("all", 7, "cross_entropy"): "UAR 70.12 / WA 69.15", ("all", 7, "focal"): "UAR 70.76 / WA 70.23",
    ("impro", 3, "cross_entropy"): "UAR 68.42 / WA 76.60", ("impro", 3, "focal"): "UAR 68.38 / WA 77.41",
    ("impro", 7, "cross_entropy"): "UAR 71.51 / WA 78.73", ("impro", 7, "focal"): "UAR 70.78 / WA 79.87",
}
PAPER_NOTE = "article PDFs, best epoch chosen on the test files (random 80/20 x10, pooled)"


def lightsernet(duration: float, loss: str) -> h.System:
    return h.System(
        f"Light-SERNet {duration:g} s, {'CE' if loss == 'cross_entropy' else 'focal'}",
        f"lightsernet_mfcc_{duration:g}s",
        lambda: MFCC.light_sernet(duration=duration),
        lambda e, d, s: LightSERNet(loss=loss, **h.neural_kwargs(e, d, s)),
    )


def cells_for(paper: dict[str, str], duration: float, floors: list[h.System]) -> list[h.Cell]:
    protocols = [h.random_kfold(5, 0, stratified=True,
                                label="paper: random stratified 5-fold (80/20, speaker-dependent)"),
                 h.leave_one_speaker_out()]
    networks = [(lightsernet(duration, loss), paper[loss]) for loss in ("cross_entropy", "focal")]
    return h.table_cells(protocols, networks, floors)


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.split("\n\n")[0], default_epochs=300)
    p.add_argument("--iemocap", default=None, help="IEMOCAP root (Session1..5); adds table 1")
    args = h.finish_args(p.parse_args(argv))
    floors, notes = h.floor_systems(args.n_jobs)
    budget = f"Paper numbers: {PAPER_NOTE}; the paper ran 300 epochs (batch 32), this run {args.epochs}."
    notes = [h.PROTOCOL_NOTE, budget, *notes]
    corpus = h.shared_corpus("emodb", args)
    if corpus is None:
        print("EMO-DB (2 s copy) not found: pass --data or set SKSER_DATA to the folder "
              "holding emodb-2s/.", file=sys.stderr)
        return 2
    rows = h.run_cells(cells_for(PAPER_EMODB, 3.0, floors), corpus, args)
    h.write_table("lightsernet_emodb", "Light-SERNet, EMO-DB, 3 s input (seed table 2)", rows, notes, args)
    if args.iemocap:
        rows = []
        bunch = load_iemocap(args.iemocap, mapping={"excitement": "happiness"},
                             emotions=["anger", "happiness", "neutral", "sadness"])
        for subset in ("all", "impro"):
            sub = bunch
            if subset == "impro":
                keep = [i for i, f in enumerate(bunch.data) if "impro" in Path(f).name]
                sub = type(bunch)(data=[bunch.data[i] for i in keep], target=bunch.target[keep],
                                  groups=bunch.groups[keep])
            corpus = h.corpus_from_bunch(f"iemocap_{subset}", f"IEMOCAP 4-class, {subset}", sub, args.quick)
            for seconds in (3, 7):
                paper = {loss: PAPER_IEMOCAP[subset, seconds, loss] for loss in ("cross_entropy", "focal")}
                rows += h.run_cells(cells_for(paper, float(seconds), floors), corpus, args)
        h.write_table("lightsernet_iemocap", "Light-SERNet, IEMOCAP (seed table 1)", rows, notes, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
