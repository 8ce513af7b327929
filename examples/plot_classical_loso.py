"""Classical pipeline on EMO-DB, evaluated leave-one-speaker-out.

MFCC + delta + delta-delta, ten functionals per track, standardisation and an
SVM with balanced class weights. ``evaluate`` is given the speakers, so it
uses leave-one-speaker-out folds; the pooled confusion matrix is saved as
``classical_loso_confusion.png``.

Run: ``SKSER_DATA=../shared/data python examples/plot_classical_loso.py [--quick]``
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from _common import corpus_dir, parse_args, subset
from skser import MFCC, Functionals
from skser.datasets import load_emodb
from skser.model_selection import evaluate

args = parse_args(__doc__.splitlines()[0])
emodb = load_emodb(corpus_dir("emodb-4class"))
if args.quick:  # 3 speakers, 12 files each: a smoke run, not a result
    X, y, speakers = subset(emodb, n_speakers=3, per_speaker=12)
else:
    X, y, speakers = emodb.data, emodb.target, emodb.groups

model = make_pipeline(MFCC(deltas=2), Functionals(), StandardScaler(),
                      SVC(class_weight="balanced"))
result = evaluate(model, X, y, groups=speakers)
print(result)

display = result.plot_confusion_matrix()
display.ax_.set_title(f"EMO-DB 4 classes, LOSO: UAR {result.pooled['uar']:.3f}")
out = Path(args.out) / "classical_loso_confusion.png"
display.figure_.savefig(out, dpi=120, bbox_inches="tight")
print(f"wrote {out}")
