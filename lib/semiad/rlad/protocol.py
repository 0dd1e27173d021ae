"""RLAD training protocols: the paper's text vs the authors' released code, as typed values (issue #16).

The paper (Sec. 6.3) and the authors' code (twmoveon/RLAD, ``RL_AL.py``; ``shared/protocols/rlad.md``)
disagree on five training constants. A :class:`RLADProtocol` holds each as a named field, so a grid cell
config carries them (:func:`semiad.rlad.grid.build_configs` ``protocol=``) and an ablation switches
exactly one (:meth:`RLADProtocol.switch`), mirroring :mod:`semiad.core.detectors.protocol` (Deep SAD).

Two presets: :data:`PAPER_TEXT` (Sec. 6.3 as written) and :data:`AUTHORS_CODE` (the shipped calls
``train(100, N_al, 1.0)``). The grid's and the notebooks' default is :data:`DEFAULT`, chosen by measurement
(the rule is stated where it is set). ``protocol=None`` still gives the configs exactly as before this module;
they equal :data:`PAPER_TEXT`'s, cache keys included, under the smoke and quick profiles (whose episode caps
are below both presets' episode counts; under ``paper`` only KPI's RLAD cells differ: 300 episodes, not
1,000). Fields that equal the pre-protocol behaviour are left out of a cell config, so cached cells stay
valid and a switch changes only the cache keys of the cells it acts on (the split acts on every method,
the other fields on RLAD cells only).

Other differences the note lists (10 updates per episode, batch 256, lr 0.01, hidden 128, 100 pseudo-labels,
reward leakage of the code's shared environment, ...) are not switched here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from semiad.core.protocol_fields import ProtocolFields

#: How queries are spread over episodes: ``"paper_table"`` = Sec. 6.3's N_al per budget (1 / 5 / 10 on
#: Yahoo, 5 / 10 on KPI; raised only when an episode cap cannot spend the budget otherwise);
#: ``"spread"`` = ceil(queries / episodes), i.e. a fixed episode count spends the budget evenly.
QueryRule = Literal["paper_table", "spread"]
#: ``"per_benchmark"``: semiad's axis per benchmark (time for A1 / KPI, series for A2,
#: ``semiad.rlad.grid.DEFAULT_SPLIT``); ``"series"``: whole series for every benchmark.
SplitRule = Literal["per_benchmark", "series"]
QUERY_RULES: tuple[str, ...] = ("paper_table", "spread")
SPLIT_RULES: tuple[str, ...] = ("per_benchmark", "series")
FAMILIES: tuple[str, ...] = ("yahoo", "kpi")
#: The agent's and grid's behaviour before protocols existed (left out of cell configs).
LEGACY_REPLAY_SIZE = 1000
LEGACY_QUERY_RULE = "paper_table"


@dataclass(frozen=True)
class RLADProtocol(ProtocolFields):
    """Every paper-vs-code difference of RLAD's training constants, one field each.

    Attributes
    ----------
    name : label for tables and notebooks (not part of any cache key).
    discount_yahoo, discount_kpi : DQN discount gamma (Sec. 6.3: 0.8 Yahoo, 0.98 KPI; code: 1.0).
    replay_size : replay memory N (Sec. 6.3: 1,000; code: 500,000).
    queries_per_episode : :data:`QueryRule`. The paper's 1-10 queries per episode are its table
        (``"paper_table"``); the code's 30 / 50 / 100 queries x 300 episodes are budgets of 9,000 / 15,000 /
        30,000 queries spent over a fixed 300 episodes (``"spread"``: N_al = ceil(queries / 300)), so the
        label budget stays the grid's axis under both presets.
    episodes_yahoo, episodes_kpi : episodes (Sec. 6.3: 1,000 Yahoo, 300 KPI; code: 300). A profile's
        ``max_episodes`` caps them (the cell's ``max_episodes`` is the smaller of the two).
    split : :data:`SplitRule` (paper: 0.8 : 0.2 without an axis, semiad's per-benchmark choice; code:
        series, the held-out series being the last 10 % of the file order -- ours are drawn with the seed).
    test_fraction : held-out share (paper 0.2; code 0.1).
    """

    name: str
    discount_yahoo: float
    discount_kpi: float
    replay_size: int
    queries_per_episode: QueryRule
    episodes_yahoo: int
    episodes_kpi: int
    split: SplitRule
    test_fraction: float

    def __post_init__(self):
        for g in (self.discount_yahoo, self.discount_kpi):
            if not 0.0 <= g <= 1.0:
                raise ValueError(f"discounts must lie in [0, 1], got {g}")
        if self.replay_size < 1:
            raise ValueError(f"replay_size must be >= 1, got {self.replay_size}")
        if self.queries_per_episode not in QUERY_RULES:
            raise ValueError(f"queries_per_episode must be one of {QUERY_RULES}, "
                             f"got {self.queries_per_episode!r}")
        if min(self.episodes_yahoo, self.episodes_kpi) < 1:
            raise ValueError("episodes must be >= 1")
        if self.split not in SPLIT_RULES:
            raise ValueError(f"split must be one of {SPLIT_RULES}, got {self.split!r}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must lie in (0, 1), got {self.test_fraction}")

    def discount(self, family: str) -> float:
        return {"yahoo": self.discount_yahoo, "kpi": self.discount_kpi}[_family(family)]

    def episodes(self, family: str) -> int:
        return {"yahoo": self.episodes_yahoo, "kpi": self.episodes_kpi}[_family(family)]

    def split_mode(self, benchmark_default: str) -> str:
        """The split axis of a benchmark whose semiad default is ``benchmark_default``."""
        return benchmark_default if self.split == "per_benchmark" else "series"

    def rlad_params(self, family: str, max_episodes: int) -> dict:
        """The RLAD cell params this protocol sets: ``gamma`` and ``max_episodes`` (the profile cap or the
        protocol's episodes, whichever is smaller) always; ``replay_size`` and ``queries_per_episode`` only
        where they differ from the pre-protocol behaviour (cache keys unchanged otherwise)."""
        out: dict = {"gamma": self.discount(family),
                     "max_episodes": min(int(max_episodes), self.episodes(family))}
        if self.replay_size != LEGACY_REPLAY_SIZE:
            out["replay_size"] = self.replay_size
        if self.queries_per_episode != LEGACY_QUERY_RULE:
            out["queries_per_episode"] = self.queries_per_episode
        return out


def _family(family: str) -> str:
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    return family


#: Sec. 6.3 as written.
PAPER_TEXT = RLADProtocol(name="paper_text", discount_yahoo=0.8, discount_kpi=0.98, replay_size=1000,
                          queries_per_episode="paper_table", episodes_yahoo=1000, episodes_kpi=300,
                          split="per_benchmark", test_fraction=0.2)

#: The authors' shipped calls (``RL_AL.py``: ``train(100, 30 | 50 | 100, 1.0)``, 300 episodes, 90 / 10 split).
AUTHORS_CODE = RLADProtocol(name="authors_code", discount_yahoo=1.0, discount_kpi=1.0, replay_size=500_000,
                            queries_per_episode="spread", episodes_yahoo=300, episodes_kpi=300,
                            split="series", test_fraction=0.1)

PRESETS: tuple[RLADProtocol, ...] = (PAPER_TEXT, AUTHORS_CODE)

#: The grid's and the notebooks' default. RULE: the preset under which more (claim, metric) pairs of
#: ``data/reported/rlad_claims.csv`` hold, counted over Tables 2 and 3 in the quick profile under the
#: four metrics of :data:`semiad.rlad.claims.CLAIM_METRICS` (a tie keeps the paper's text).
#: Measured (quick, real Yahoo S5 and KPI, 3 seeds; ``claims_by_protocol.csv`` beside each notebook):
#: paper_text 10 of 28 (Yahoo 10 of 20, KPI 0 of 8), authors_code 6 of 28 (Yahoo 6 of 20, KPI 0 of 8),
#: so the paper's text stays the default.
DEFAULT = PAPER_TEXT


def other_preset(protocol: str | RLADProtocol) -> RLADProtocol:
    """The preset that is not ``protocol`` (a notebook's ablation: the default's counterpart)."""
    chosen = protocol_named(protocol)
    others = [p for p in PRESETS if chosen is None or p.name != chosen.name]
    if chosen is None or len(others) != 1:
        raise ValueError(f"{protocol!r} is not one of the presets {[p.name for p in PRESETS]}")
    return others[0]


def protocol_named(name: str | RLADProtocol | None) -> RLADProtocol | None:
    """A preset by name (notebook parameters are strings); a protocol passes through; ``None`` stays
    ``None`` (the grid's pre-protocol configs)."""
    if name is None or isinstance(name, RLADProtocol):
        return name
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise ValueError(f"unknown RLAD protocol {name!r}; choose one of {[p.name for p in PRESETS]}")
