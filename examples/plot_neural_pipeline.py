"""A neural classifier in a scikit-learn pipeline: TIM-Net on EMO-DB.

The TIM-Net MFCC front end (``MFCC.timnet``, variable length, NaN-padded) feeds ``TIMNet``. Two speakers are
held out for testing; early stopping uses ``validation_fraction`` of the
training rows, split by speaker (``groups``), so the test speakers never
choose the epoch. The training and validation loss per epoch are saved as
``neural_learning_curve.png``.

Run: ``SKSER_DATA=../shared/data python examples/plot_neural_pipeline.py [--quick]``
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from _common import corpus_dir, parse_args, subset
from skser import MFCC, TIMNet
from skser.datasets import load_emodb
from skser.metrics import unweighted_average_recall

args = parse_args(__doc__.splitlines()[0])
emodb = load_emodb(corpus_dir("emodb-4class"))
if args.quick:  # 4 speakers, 10 files each, 2 epochs: a smoke run, not a result
    X, y, speakers = subset(emodb, n_speakers=4, per_speaker=10)
    max_epochs = 2
else:
    X, y, speakers = emodb.data, emodb.target, emodb.groups
    max_epochs = 60

test_speakers = np.unique(speakers)[:2]
test = np.isin(speakers, test_speakers)
model = make_pipeline(
    MFCC.timnet(),
    TIMNet(max_epochs=max_epochs, validation_fraction=0.25, random_state=0),
)
model.fit(X[~test], y[~test], timnet__groups=speakers[~test])
uar = unweighted_average_recall(y[test], model.predict(X[test]))
print(f"UAR on held-out speakers {', '.join(test_speakers)}: {uar:.3f}")

history = model[-1].net_.history
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(history[:, "epoch"], history[:, "train_loss"], label="training loss")
ax.plot(history[:, "epoch"], history[:, "valid_loss"], label="validation loss")
ax.set_xlabel("epoch")
ax.set_ylabel("loss")
ax.legend()
ax.set_title(f"TIM-Net, EMO-DB 4 classes (test UAR {uar:.3f})")
out = Path(args.out) / "neural_learning_curve.png"
fig.savefig(out, dpi=120, bbox_inches="tight")
print(f"wrote {out}")
