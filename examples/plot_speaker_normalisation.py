"""Speaker normalisation against none, leave-one-speaker-out on EMO-DB.

The same utterance features (MFCC + deltas, ten functionals) feed an SVM once
after a global ``StandardScaler`` and once after ``SpeakerNormalizer``, which
standardises each speaker with that speaker's own statistics (no labels
needed, so an unseen speaker's files are enough). ``evaluate`` routes the
speakers to ``fit`` and ``predict``. The UAR per held-out speaker is saved as
``speaker_normalisation_uar.png``.

Run: ``SKSER_DATA=../shared/data python examples/plot_speaker_normalisation.py [--quick]``
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from _common import corpus_dir, parse_args, subset
from skser import MFCC, Functionals
from skser.datasets import load_emodb
from skser.model_selection import evaluate
from skser.preprocessing import SpeakerNormalizer

args = parse_args(__doc__.splitlines()[0])
emodb = load_emodb(corpus_dir("emodb-4class"))
if args.quick:  # 3 speakers, 12 files each (normalising a speaker needs >= 10)
    X, y, speakers = subset(emodb, n_speakers=3, per_speaker=12)
else:
    X, y, speakers = emodb.data, emodb.target, emodb.groups

# Features are stateless: extract them once and compare only what follows.
features = make_pipeline(MFCC(deltas=2), Functionals()).fit_transform(X)
systems = {
    "global StandardScaler": make_pipeline(StandardScaler(), SVC(class_weight="balanced")),
    "SpeakerNormalizer": make_pipeline(SpeakerNormalizer(), SVC(class_weight="balanced")),
}
results = {name: evaluate(model, features, y, groups=speakers)
           for name, model in systems.items()}
for name, result in results.items():
    print(f"{name}: pooled UAR {result.pooled['uar']:.3f} ({result.protocol})")

fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.4
for i, (name, result) in enumerate(results.items()):
    folds = result.folds
    ax.bar(np.arange(len(folds)) + (i - 0.5) * width, folds["uar"], width,
           label=f"{name} (pooled {result.pooled['uar']:.3f})")
ax.set_xticks(np.arange(len(folds)), folds["test_speakers"])
ax.set_xlabel("held-out speaker")
ax.set_ylabel("UAR")
ax.set_ylim(0, 1)
ax.legend(loc="lower right", fontsize="small")
ax.set_title("EMO-DB 4 classes, leave-one-speaker-out")
out = Path(args.out) / "speaker_normalisation_uar.png"
fig.savefig(out, dpi=120, bbox_inches="tight")
print(f"wrote {out}")
