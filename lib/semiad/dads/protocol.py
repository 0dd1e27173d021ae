"""DADS protocols: the student abstract's text vs the authors' development code, as typed values.

The abstract ("Deep Anomaly Detection and Search via Reinforcement Learning") leaves most of the
agent, environment and data protocol unstated; the first author's development repository
(``shenbiachao/Deep-Anomaly-Detection-and-Search``, commits d4ff214 and 8a312af) fixes them, and
``shared/protocols/dads.md`` lists every difference. A :class:`DADSProtocol` holds each difference as
one field, so that a grid cell carries the protocol and an ablation switches exactly one field
(:meth:`DADSProtocol.switch`), in the manner of :class:`semiad.core.detectors.protocol.TrainingProtocol`.

Presets: :data:`PAPER_TEXT` (what the abstract says, filled in by issue #6: the package's behaviour
before this module existed, kept bit-identical), :data:`AUTHORS_CODE` (commit 8a312af, Oct 2022, whose
results are committed) and :data:`AUTHORS_CODE_AUG` (commit d4ff214, Aug 2022; the note cannot tell
which of the two produced the abstract's Figure 2).

Cache keys: a cell carries only the fields that act on it and only where they differ from
:data:`PAPER_TEXT` (:meth:`DADSProtocol.data_options`, :meth:`DADSProtocol.agent_params`,
:meth:`DADSProtocol.baseline_params`), so paper-text cells keep the keys they had, two protocols that
compute different things never share a key, and cells that compute the same thing (e.g. a baseline
under an agent-only ablation) share one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Literal

from semiad.core.protocol_fields import ProtocolFields, preset_named

FeatureSet = Literal["clean21", "authors"]
AnnthyroidRows = Literal["train_and_test", "train_file"]
Split = Literal["semiad", "sklearn"]
Scale = Literal["standard", "standard_minmax"]
LabeledOf = Literal["all_anomalies", "known_class"]
Rounding = Literal["round", "floor"]
ContaminationCount = Literal["share", "per_normal"]
ActorHeads = Literal["linear", "sigmoid"]
WarmupActions = Literal["uniform", "binary"]
NetInit = Literal["pytorch_default", "xavier"]
Baselines = Literal["semiad", "authors"]

#: Order of the entries of :attr:`DADSProtocol.detector_mix` (the authors' ``clf_list``).
MIX_DETECTORS: tuple[str, ...] = ("iforest", "hbos", "ocsvm", "random")
#: The authors' ten seeds (``config/DADS/data_config.toml``, setting 2.1, commented full list).
AUTHORS_SEEDS: tuple[int, ...] = (1, 20, 42, 50, 99, 101, 135, 145, 165, 200)
#: Fields that go to :class:`semiad.dads.env.DADSEnv` (through ``DADS(env_kwargs=...)``).
ENV_FIELDS: tuple[str, ...] = ("th_score", "th_conf", "adaptive_th_conf", "detector_max_fit",
                               "n_candidates", "candidates_replace", "detector_mix", "t_min_draw",
                               "action_low")
#: Fields that go to :class:`semiad.dads.agent.DADS` itself.
AGENT_FIELDS: tuple[str, ...] = ("detector_space", "net_arch", "learning_rate", "adam_eps", "batch_size",
                                 "buffer_size", "tau", "gamma", "max_grad_norm", "train_freq",
                                 "gradient_steps", "target_entropy", "ou_noise", "actor_heads", "init",
                                 "warmup_actions", "bootstrap_at_episode_end", "keep_best_actor")
#: Fields that go to :func:`semiad.dads.data.load_multiclass`: field -> (the one dataset it acts on,
#: the loader's keyword).
LOADER_FIELDS: dict[str, tuple[str, str]] = {"feature_set": ("cardiotocography", "feature_set"),
                                             "annthyroid_rows": ("annthyroid", "rows")}
#: Fields that go to :func:`semiad.dads.contamination.make_contamination_split`.
SPLIT_FIELDS: tuple[str, ...] = ("split", "scale", "labeled_of", "labeled_rounding", "contamination_count")


@dataclass(frozen=True)
class DADSProtocol(ProtocolFields):
    """Every paper-vs-code difference of DADS (``shared/protocols/dads.md``), one field each.

    Environment (:class:`~semiad.dads.env.DADSEnv`)
        th_score : action above it = "judged anomalous" (paper: unstated, 0.5; code: 0.01, on the raw
            tanh action in (-1, 1), see ``action_low``). th_conf : consecutive anomalous judgements that
            promote a T row to A (``check_num``: 8 in d4ff214, 9 in 8a312af). adaptive_th_conf : the code
            moves th_conf at every reset: +1 if |A| at the end of the last episode exceeded 1.5 x its
            initial size, -1 if A did not grow (the first reset takes the -1 branch).
        detector_max_fit : rows of U the detectors are fit on (code: <= 5,000 random U rows per reset).
        n_candidates, candidates_replace : U candidates per draw (50 in both), drawn with replacement
            (ours) or without (code, ``np.random.choice(..., replace=False)``).
        detector_mix : ``None`` = the abstract's average of IF, OC-SVM and HBOS; else the code's
            probabilities of (IForest, HBOS, OC-SVM, random) deciding one U draw (:data:`MIX_DETECTORS`).
        t_min_draw : T is drawn from only when it holds this many rows (code: ``len(T) > 1``).
        action_low : lower end of the action space: 0 (abstract: scores in [0, 1]) or -1 (code: the
            tanh action reaches the environment unscaled, so th_score 0.01 sits at its middle).
    Agent (:class:`~semiad.dads.agent.DADS`)
        detector_space : ``"raw"`` features, or ``"embedding"``: the detectors are refit at every reset
            on the actor's last hidden layer (code). net_arch : hidden widths (32, 16) in both.
        learning_rate, adam_eps, batch_size, buffer_size, tau, gamma, max_grad_norm : SAC optimisation
            (SB3 defaults 3e-4, 1e-8, 256, whole run, 0.005, 0.99, none; code 5e-4, 1e-4, 64, 1e5, 0.2,
            0.99, 5). learning_starts : random steps before learning (SB3 100; code 10,000), scaled by the
            profile's run length (:meth:`learning_starts_for`). train_freq, gradient_steps : update cadence
            (1 / 1; code 16 gradient steps every 16 env steps). target_entropy : -1 in both (SB3 "auto"
            is -dim(action) = -1; kept for ablations). ou_noise : Ornstein-Uhlenbeck action noise
            (mu, theta, sigma) with unit time step, or ``None``. actor_heads : ``"sigmoid"`` puts a
            sigmoid on the mean and log-std heads (code), so the test score is the sigmoid mean.
            init : dense weights Xavier-uniform (code) or PyTorch defaults. warmup_actions : random
            actions before learning uniform in the action box (SB3) or binary {0, 1} (code: its
            ``action_space`` is ``Discrete(2)``). bootstrap_at_episode_end : SB3 bootstraps through
            the time limit; the code stores ``done=True``. keep_best_actor : the actor with the best
            validation AUC-ROC over episodes is kept (issue #6 and code), else the last one.
        n_episodes, episode_length : the reference run (10 x 5,000 in both); profiles shrink it.
    Data (:func:`~semiad.dads.contamination.make_contamination_split`)
        feature_set : CTG columns, ``"clean21"`` or the code's 34 (:data:`semiad.dads.data.
            CTG_AUTHORS_FEATURES`, which leak the label). annthyroid_rows : both UCI files (7,200 rows) or
            ``ann-train.data`` alone (3,772 rows, the code's). split : our per-class split or sklearn's
            ``train_test_split`` twice (``random_state=seed``, the code's). scale : standardise, or
            standardise then min-max to [0, 1] (code), fit on train. labeled_of / labeled_rounding :
            10 % of all train anomalies, rounded (abstract as read by issue #6) or int(0.1 x known-class
            train anomalies), >= 1 (code). contamination_count : unlabeled anomalies making up the
            share ``c`` of U (ours) or int(c x #train normals) (code). seeds : the grid's seed list.
    Baselines
        baselines : ``"semiad"`` (documented defaults) or ``"authors"`` (the code's configurations of
            XGBoost, IForest, Deep SAD, SSAD, VIME, DevNet and DPLAN; :meth:`baseline_params`).
    """

    name: str
    # environment
    th_score: float
    th_conf: int
    adaptive_th_conf: bool
    detector_max_fit: int
    n_candidates: int
    candidates_replace: bool
    detector_mix: tuple[float, float, float, float] | None
    t_min_draw: int
    action_low: float
    # agent
    detector_space: Literal["raw", "embedding"]
    net_arch: tuple[int, ...]
    learning_rate: float
    adam_eps: float
    batch_size: int
    buffer_size: int | None
    tau: float
    gamma: float
    max_grad_norm: float | None
    learning_starts: int
    train_freq: int
    gradient_steps: int
    target_entropy: float
    ou_noise: tuple[float, float, float] | None
    actor_heads: ActorHeads
    init: NetInit
    warmup_actions: WarmupActions
    bootstrap_at_episode_end: bool
    keep_best_actor: bool
    n_episodes: int
    episode_length: int
    # data
    feature_set: FeatureSet
    annthyroid_rows: AnnthyroidRows
    split: Split
    scale: Scale
    labeled_of: LabeledOf
    labeled_rounding: Rounding
    contamination_count: ContaminationCount
    seeds: tuple[int, ...]
    # baselines
    baselines: Baselines

    def __post_init__(self) -> None:
        choices = {"detector_space": ("raw", "embedding"), "actor_heads": ("linear", "sigmoid"),
                   "init": ("pytorch_default", "xavier"), "warmup_actions": ("uniform", "binary"),
                   "feature_set": ("clean21", "authors"), "split": ("semiad", "sklearn"),
                   "annthyroid_rows": ("train_and_test", "train_file"),
                   "scale": ("standard", "standard_minmax"), "labeled_of": ("all_anomalies", "known_class"),
                   "labeled_rounding": ("round", "floor"), "contamination_count": ("share", "per_normal"),
                   "baselines": ("semiad", "authors")}
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"{key} must be one of {allowed}, got {getattr(self, key)!r}")
        if self.action_low not in (0.0, -1.0):
            raise ValueError(f"action_low must be 0.0 or -1.0, got {self.action_low!r}")
        if not self.action_low <= self.th_score <= 1.0:
            raise ValueError(f"th_score must lie in [{self.action_low}, 1], got {self.th_score}")
        if self.detector_mix is not None:
            mix = tuple(float(p) for p in self.detector_mix)
            if len(mix) != len(MIX_DETECTORS) or min(mix) < 0 or abs(sum(mix) - 1) > 1e-9:
                raise ValueError(f"detector_mix must be {len(MIX_DETECTORS)} probabilities over "
                                 f"{MIX_DETECTORS} summing to 1, got {self.detector_mix!r}")
        if self.ou_noise is not None and len(self.ou_noise) != 3:
            raise ValueError(f"ou_noise must be (mu, theta, sigma) or None, got {self.ou_noise!r}")
        for key in ("th_conf", "detector_max_fit", "n_candidates", "t_min_draw", "batch_size", "train_freq",
                    "gradient_steps", "n_episodes", "episode_length"):
            if int(getattr(self, key)) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)!r}")
        if self.learning_starts < 0 or not self.seeds or min(self.seeds) < 0:
            raise ValueError("learning_starts must be >= 0 and seeds a non-empty list of non-negative ints")

    # ------------------------------------------------------------------ identity
    def settings(self) -> dict:
        """Every field but ``name`` (tuples as lists: the JSON form a config holds)."""
        return _jsonable({k: v for k, v in asdict(self).items() if k != "name"})

    def _changed(self, keys) -> dict:
        """The fields among ``keys`` whose value differs from :data:`PAPER_TEXT` (JSON form)."""
        mine, base = self.settings(), PAPER_TEXT.settings()
        return {k: mine[k] for k in keys if mine[k] != base[k]}

    # ------------------------------------------------------------------ what each cell carries
    def data_options(self, dataset: str) -> dict:
        """Options of the contamination split and the loader that differ from the paper text; only
        what acts on ``dataset`` (``feature_set`` acts on cardiotocography alone, ``annthyroid_rows`` on
        annthyroid alone; :data:`LOADER_FIELDS`)."""
        out = self._changed(SPLIT_FIELDS)
        out.update(self._changed(f for f, (ds, _) in LOADER_FIELDS.items() if ds == dataset))
        return out

    def learning_starts_for(self, n_episodes: int, episode_length: int) -> int:
        """Random steps before learning for a run of ``n_episodes x episode_length`` steps: the
        protocol's value at its reference length, the same share of a shorter (profile) run."""
        reference = self.n_episodes * self.episode_length
        total = n_episodes * episode_length
        return min(self.learning_starts, int(round(self.learning_starts * total / reference)))

    def agent_params(self, n_episodes: int, episode_length: int) -> dict:
        """``DADS`` keyword arguments that differ from the paper text (the env's under ``env_kwargs``)."""
        out = self._changed(AGENT_FIELDS)
        if self.learning_starts != PAPER_TEXT.learning_starts:
            out["learning_starts"] = self.learning_starts_for(n_episodes, episode_length)
        env = self._changed(ENV_FIELDS)
        if env:
            out["env_kwargs"] = env
        return out

    def grid_seeds(self, n: int) -> tuple[int, ...]:
        """The first ``n`` seeds of the protocol's list (a profile decides how many)."""
        if n > len(self.seeds):
            raise ValueError(f"{self.name} lists {len(self.seeds)} seeds, {n} requested")
        return tuple(self.seeds[:n])

    def baseline_params(self, name: str, params: dict, length_scale: float) -> dict:
        """A baseline's hyperparameters: ``params`` (the profile's, paper text) unchanged under
        ``baselines="semiad"``; the authors' configuration otherwise (``shared/protocols/dads.md``,
        "Baselines configured at those commits"), training lengths multiplied by ``length_scale``
        (1 at the paper profile) and kept >= 1."""
        if self.baselines == "semiad":
            return params

        def length(v: int) -> int:
            return max(1, int(round(v * length_scale)))

        if name == "xgboost":
            return {"learning_rate": 0.1, "n_estimators": 100, "max_depth": 3}
        if name == "iforest":
            return {"max_samples": 256}
        if name == "deep_sad":
            # eta 1, lr 1e-3, 50 epochs, batch 128, wd 0.5e-6; AE 150 epochs, lr 1e-4, wd 0.5e-3
            out = {k: v for k, v in params.items() if k not in ("lr_milestones",)}
            out.update(n_epochs=length(50), ae_n_epochs=length(150), lr=1e-3, lr_milestones=[],
                       ae_lr_milestones=[], batch_size=128, weight_decay=0.5e-6, eta=1.0,
                       ae_lr=1e-4, ae_weight_decay=0.5e-3)
            return out
        if name == "ssad":
            return {**params, "kappa": 1.0, "gamma_grid": [2.0 ** e for e in range(-7, 3)]}
        if name == "vime":
            return {"epochs": length(10), "hidden_dim": 100, "batch_size": 128,
                    "n_iterations": length(1000), "p_m": 0.3, "alpha": 2.0, "K": 3, "beta": 1.0}
        if name == "devnet":  # network_depth 2 = one hidden layer of 20 units (DevNet's dev_network_s)
            return {"hidden_dims": [20], "epochs": length(50), "batch_size": 512, "n_batches": 20}
        if name == "dplan":
            return {"total_timesteps": length(20_000), "episode_length": 2000, "hidden_units": 16,
                    "learning_rate": 3e-4, "gamma": 0.99, "exploration_initial_eps": 1.0,
                    "exploration_final_eps": 0.1, "buffer_size": 100_000,
                    "target_update_interval": 10_000}
        return params


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


#: The abstract's text as the package implemented it before the protocol existed (issue #6).
PAPER_TEXT = DADSProtocol(
    name="paper_text", th_score=0.5, th_conf=8, adaptive_th_conf=False, detector_max_fit=2000,
    n_candidates=50, candidates_replace=True, detector_mix=None, t_min_draw=1, action_low=0.0,
    detector_space="raw", net_arch=(32, 16), learning_rate=3e-4, adam_eps=1e-8, batch_size=256,
    buffer_size=None, tau=0.005, gamma=0.99, max_grad_norm=None, learning_starts=100, train_freq=1,
    gradient_steps=1, target_entropy=-1.0, ou_noise=None, actor_heads="linear", init="pytorch_default",
    warmup_actions="uniform", bootstrap_at_episode_end=True, keep_best_actor=True, n_episodes=10,
    episode_length=5000, feature_set="clean21", annthyroid_rows="train_and_test", split="semiad",
    scale="standard",
    labeled_of="all_anomalies", labeled_rounding="round", contamination_count="share",
    seeds=tuple(range(10)), baselines="semiad")

#: Commit 8a312af (Oct 2022, results committed): ``config/DADS/model_config.toml`` and the loader.
AUTHORS_CODE = DADSProtocol(
    name="authors_code", th_score=0.01, th_conf=9, adaptive_th_conf=True, detector_max_fit=5000,
    n_candidates=50, candidates_replace=False, detector_mix=(0.0, 0.0, 0.0, 1.0), t_min_draw=2,
    action_low=-1.0, detector_space="embedding", net_arch=(32, 16), learning_rate=5e-4, adam_eps=1e-4,
    batch_size=64, buffer_size=100_000, tau=0.2, gamma=0.99, max_grad_norm=5.0, learning_starts=10_000,
    train_freq=16, gradient_steps=16, target_entropy=-1.0, ou_noise=(0.0, 0.1, 0.1), actor_heads="sigmoid",
    init="xavier", warmup_actions="binary", bootstrap_at_episode_end=False, keep_best_actor=True,
    n_episodes=10, episode_length=5000, feature_set="authors", annthyroid_rows="train_file", split="sklearn",
    scale="standard_minmax",
    labeled_of="known_class", labeled_rounding="floor", contamination_count="per_normal",
    seeds=AUTHORS_SEEDS, baselines="authors")

#: Commit d4ff214 (Aug 2022): TH_score 0.1, TH_conf 8, detector mix (.17, .17, .16, .5), OU sigma 0.2.
AUTHORS_CODE_AUG = replace(AUTHORS_CODE, name="authors_code_aug", th_score=0.1, th_conf=8,
                           detector_mix=(0.17, 0.17, 0.16, 0.5), ou_noise=(0.0, 0.1, 0.2))

PRESETS: tuple[DADSProtocol, ...] = (PAPER_TEXT, AUTHORS_CODE, AUTHORS_CODE_AUG)


def dads_protocol_named(name: str | DADSProtocol | None) -> DADSProtocol:
    """A preset by name (notebook parameters are strings); a protocol passes through; ``None`` gives
    :data:`PAPER_TEXT`."""
    return preset_named(name, PRESETS, PAPER_TEXT, "DADS protocol")
