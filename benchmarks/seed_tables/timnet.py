"""TIM-Net seed table: EMO-DB and RAVDESS (and SAVEE, IEMOCAP by path).

System: ``MFCC.timnet(duration=L / 22050)`` with the original's per-corpus
length L -> ``TIMNet`` (Adam 1e-3, betas 0.93/0.98, label smoothing 0.1, batch
64; 10 TABs for IEMOCAP, 8 otherwise), next to the classical floor. Protocols:

- paper: ``KFold(10, shuffle=True, random_state=<the README's seed>)`` over
  utterances (random, not stratified, speaker-dependent), the original's split;
  the original kept the best epoch on the test fold in v1 and the last epoch
  from 2023-08 on; here the last epoch is scored.
- leave-one-speaker-out.

Corpora: ``<data>/emodb-2s`` (EMO-DB, 2 s copy), ``<data>/ravdess``; SAVEE
with ``--savee PATH``, IEMOCAP (4 classes) with ``--iemocap PATH``.

Usage::

    python benchmarks/seed_tables/timnet.py --out results/timnet [--epochs 500]
        [--corpora emodb ravdess] [--folds N] [--quick] [--savee PATH] [--iemocap PATH]
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h

from skser.datasets import load_iemocap, load_savee
from skser.features import MFCC
from skser.features._mfcc import TIMNET_SIGNAL_LENGTHS
from skser.models import TIMNet

# corpus key: (original's name, README seed, paper v1 UAR/WA, updated 2023-08 UAR/WA) — reference §2.5
PAPER = {
    "emodb": ("EMODB", 46, "v1 UAR 95.17 / WA 95.70; 2023-08 UAR 89.19 / WA 90.28"),
    "ravdess": ("RAVDESS", 46, "v1 UAR 91.93 / WA 92.08; 2023-08 UAR 90.04 / WA 90.07"),
    "savee": ("SAVEE", 44, "v1 UAR 86.31 / WA 87.71; 2023-08 UAR 77.26 / WA 79.36"),
    "iemocap": ("IEMOCAP", 16, "v1 UAR 72.50 / WA 71.65"),
}


def timnet(corpus: str) -> h.System:
    name, _, _ = PAPER[corpus]
    duration = TIMNET_SIGNAL_LENGTHS[name] / 22050
    blocks = 10 if corpus == "iemocap" else 8
    return h.System(
        f"TIM-Net ({blocks} TABs)",
        f"timnet_mfcc_{corpus}",
        lambda: MFCC.timnet(duration=duration),
        lambda e, d, s: TIMNet(n_blocks=blocks, **h.neural_kwargs(e, d, s)),
    )


def load(corpus: str, args) -> h.Corpus | None:
    if corpus in h.SHARED_CORPORA:
        return h.shared_corpus(corpus, args)
    if corpus == "savee" and args.savee:
        return h.corpus_from_bunch("savee", "SAVEE", load_savee(args.savee), args.quick)
    if corpus == "iemocap" and args.iemocap:
        bunch = load_iemocap(args.iemocap, mapping={"excitement": "happiness"},
                             emotions=["anger", "happiness", "neutral", "sadness"])
        return h.corpus_from_bunch("iemocap", "IEMOCAP 4-class (happiness + excitement)", bunch, args.quick)
    return None


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.split("\n\n")[0], default_epochs=500)
    p.add_argument("--corpora", nargs="+", default=["emodb", "ravdess", "savee", "iemocap"],
                   choices=sorted(PAPER))
    p.add_argument("--savee", default=None, help="SAVEE root (AudioData/DC/a01.wav or flat)")
    p.add_argument("--iemocap", default=None, help="IEMOCAP root (Session1..5)")
    args = h.finish_args(p.parse_args(argv))
    floors, notes = h.floor_systems(args.n_jobs)
    notes = [h.PROTOCOL_NOTE, f"The original trained 500 epochs (batch 64); this run {args.epochs}.", *notes]
    def make_table(corpus_key: str, corpus: h.Corpus) -> None:
        _, seed, paper = PAPER[corpus_key]
        protocols = [h.random_kfold(10, seed, stratified=False,
                                    label=f"paper: random KFold(10, seed {seed}), speaker-dependent"),
                     h.leave_one_speaker_out()]
        cells = h.table_cells(protocols, [(timnet(corpus_key), paper)], floors)
        rows = h.run_cells(cells, corpus, args)
        h.write_table(f"timnet_{corpus_key}", f"TIM-Net, {corpus.copy}", rows, notes, args)

    return h.for_each_corpus(args.corpora, lambda key: load(key, args), make_table,
                             "pass --data (or set SKSER_DATA) or --savee/--iemocap PATH")


if __name__ == "__main__":
    sys.exit(main())
