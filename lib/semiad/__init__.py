"""semiad — notebook-first reproductions of semi-supervised and active anomaly detection papers.

Conventions used everywhere in the package (documented once, here):

* **Ground-truth labels** ``y``: ``1`` = anomaly, ``0`` = normal (the ODDS convention).
* **Semi-supervised labels** ``y_semi`` passed to ``fit``: ``+1`` = known (labeled) normal,
  ``-1`` = known (labeled) anomaly, ``0`` = unlabeled. This is the convention of Deep SAD
  (Ruff et al., ICLR 2020, Sec. 3.2: "y = +1 and y = -1 denote normal and anomalous samples").
* **Scores**: every detector's ``decision_function(X)`` returns one float per row, *higher = more
  anomalous* (the PyOD convention), so ``roc_auc_score(y, scores)`` is the detection AUC.
"""

from semiad._version import __version__
from semiad.core.seeding import seed_everything

__all__ = ["__version__", "seed_everything"]
