"""The field's probabilistic models, usable from Python without the CLI.

Purchase models: BG/NBD, MBG/NBD, their regular-buyer forms BG/CNBD-k and MBG/CNBD-k,
Pareto/NBD and Gamma-Gompertz/NBD (continuous time) and BG/BB (discrete opportunities);
spend model: Gamma-Gamma. Each fits by maximum likelihood on the distinct rows of a
summary and predicts P(alive) and expected purchases.
"""

from __future__ import annotations

from clvcli.models.base import DistinctRows, Fitter, NotFittedError, import_optimizer
from clvcli.models.bgbb import BGBBFitter
from clvcli.models.bgnbd import BGNBDFitter
from clvcli.models.cnbd import BGCNBDFitter, MBGCNBDFitter
from clvcli.models.gamma_gamma import GammaGammaFitter
from clvcli.models.ggomnbd import GammaGompertzNBDFitter
from clvcli.models.mbgnbd import MBGNBDFitter
from clvcli.models.pareto_nbd import ParetoNBDFitter

PURCHASE_MODELS: dict[str, type[Fitter]] = {
    "bgnbd": BGNBDFitter,
    "mbgnbd": MBGNBDFitter,
    "pnbd": ParetoNBDFitter,
    "ggomnbd": GammaGompertzNBDFitter,
    "bgbb": BGBBFitter,
    "bgcnbd": BGCNBDFitter,
    "mbgcnbd": MBGCNBDFitter,
}

__all__ = [
    "PURCHASE_MODELS",
    "BGBBFitter",
    "BGCNBDFitter",
    "BGNBDFitter",
    "DistinctRows",
    "Fitter",
    "GammaGammaFitter",
    "GammaGompertzNBDFitter",
    "MBGCNBDFitter",
    "MBGNBDFitter",
    "NotFittedError",
    "ParetoNBDFitter",
    "import_optimizer",
]
