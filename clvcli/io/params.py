"""Reading a parameters file (what `clv fit --format json` writes) for `--params`.

A parameters file scores every customer without a fit, so a bad one would turn
into a whole column of wrong or empty values with exit 0. Everything that is not
what a fit writes is refused here, naming the file and the key: a value that is not
a number, not finite, not positive or far outside any fit (``r: 1e308``), a missing
key, an unknown model or period, JSON nested past any real file, a file too large
to be one.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from clvcli.errors import InputError
from clvcli.io.source import read_file
from clvcli.shown import quote_value

# A file `clv fit` writes is a few kilobytes; past this it is something else.
MOST_BYTES = 1 << 20
# Parameters a fit can give span exp(-14) to exp(14) in any time unit (the
# optimiser's box), a spend scale more in toman or rial; far outside this range a
# value is a typo or an attack, and scores would overflow to nothing.
SMALLEST = 1e-12
LARGEST = 1e15
# The spend model's name as clv fit writes it.
_SPEND_MODEL = "gamma-gamma"
_HINT = "write one with clv fit --format json -o FILE"


def read_params(path: str, periods: tuple[str, ...]) -> dict[str, Any]:
    """The parameters file at ``path``, checked: model, period and every parameter."""
    saved = _load_json(path)
    if not isinstance(saved, dict) or not {"model", "period", "params"} <= set(saved):
        raise InputError(
            f"{path}: not a parameters file (it needs model, period and params)", _HINT
        )
    from clvcli.models import PURCHASE_MODELS, GammaGammaFitter

    model = saved["model"]
    if not isinstance(model, str) or model not in PURCHASE_MODELS:
        raise InputError(
            f"{path}: key 'model': {quote_value(model)} is not a purchase model",
            "models are: " + ", ".join(PURCHASE_MODELS),
        )
    if not isinstance(saved["period"], str) or saved["period"] not in periods:
        raise InputError(
            f"{path}: key 'period': unknown period {quote_value(saved['period'])}",
            "periods are: " + ", ".join(periods),
        )
    fitter = PURCHASE_MODELS[model]
    _check_values(path, "params", saved["params"], fitter.param_names)
    _check_covariance(path, "covariance", saved.get("covariance"), fitter.covariance_names())
    spend = saved.get("spend_model")
    if spend is not None:
        if not isinstance(spend, dict) or spend.get("model", _SPEND_MODEL) != _SPEND_MODEL:
            raise InputError(f"{path}: key 'spend_model': not a Gamma-Gamma spend model", _HINT)
        names = GammaGammaFitter.param_names
        _check_values(path, "spend_model.params", spend.get("params"), names)
        _check_covariance(path, "spend_model.covariance", spend.get("covariance"), names)
    return saved


def require_covariance(path: str, saved: dict[str, Any]) -> None:
    """Refuse ``--interval`` with a parameters file that has no covariance to draw from
    (one written before `clv fit` wrote it, or a fit at a limit)."""
    parts = [("", saved)]
    if saved.get("spend_model"):
        parts.append(("spend_model.", saved["spend_model"]))
    for prefix, part in parts:
        if part.get("covariance") is None:
            raise InputError(
                f"{path}: key '{prefix}covariance' is missing, and --interval draws the "
                "parameters from it",
                "fit again with clv fit --format json -o FILE (a fit at a limit has none), "
                "or leave out --interval",
            )


def _check_covariance(path: str, key: str, values: object, names: tuple[str, ...]) -> None:
    """A covariance, when there is one: a symmetric matrix of numbers by parameter
    name with positive variances (whether it can be drawn from is checked when it is)."""
    if values is None:
        return
    if not isinstance(values, dict):
        raise InputError(f"{path}: key '{key}': not a matrix by parameter name", _HINT)
    for row in names:
        _check_numbers(path, f"{key}.{row}", values.get(row), names)
        if not values[row][row] > 0:
            raise InputError(f"{path}: key '{key}.{row}.{row}': a variance must be positive", _HINT)
    for i, row in enumerate(names):
        for column in names[i + 1 :]:
            a, b = values[row][column], values[column][row]
            if abs(a - b) > 1e-9 * max(abs(a), abs(b), 1e-300):
                raise InputError(f"{path}: key '{key}': not symmetric ({row}, {column})", _HINT)


def _check_numbers(path: str, key: str, values: object, names: tuple[str, ...]) -> None:
    if not isinstance(values, dict):
        raise InputError(f"{path}: key '{key}': not a set of named numbers", _HINT)
    for name in names:
        value = values.get(name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InputError(
                f"{path}: key '{key}.{name}': {quote_value(value)} is not a number", _HINT
            )


def _load_json(path: str) -> Any:
    try:
        size = os.stat(path).st_size
        if size > MOST_BYTES:
            raise InputError(
                f"{path}: not a parameters file ({size:,} bytes; clv fit writes a few kilobytes)",
                _HINT,
            )
        if os.path.isdir(path):
            raise IsADirectoryError(path)
        # Read as INPUT is: a device or an endless FIFO is refused, never read forever.
        data = read_file(path)
        if len(data) > MOST_BYTES:
            raise InputError(
                f"{path}: not a parameters file ({len(data):,} bytes; clv fit writes a few "
                "kilobytes)",
                _HINT,
            )
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file", _HINT) from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a parameters file", _HINT) from None
    except RecursionError:
        raise InputError(f"{path}: not a parameters file (JSON nested too deep)", _HINT) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        detail = quote_value(str(exc), 120).strip("'")
        raise InputError(f"{path}: not a parameters file ({detail})", _HINT) from None


def _no_constant(name: str) -> float:
    """NaN and Infinity are not JSON, and no fit writes them."""
    raise ValueError(f"{name} is not a number a fit writes")


def _check_values(path: str, key: str, values: object, names: tuple[str, ...]) -> None:
    if not isinstance(values, dict):
        raise InputError(f"{path}: key '{key}': not a set of named parameters", _HINT)
    missing = [name for name in names if name not in values]
    if missing:
        raise InputError(
            f"{path}: key '{key}.{missing[0]}' is missing (the model needs {', '.join(names)})",
            _HINT,
        )
    for name in names:
        value = values[name]
        where = f"{path}: key '{key}.{name}'"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{where}: {quote_value(value)} is not a number", _HINT)
        if not math.isfinite(value) or not SMALLEST <= value <= LARGEST:
            raise InputError(
                f"{where}: {value:g} is not a parameter a fit gives (need a number from "
                f"{SMALLEST:g} to {LARGEST:g})",
                "fit again with clv fit --format json -o FILE",
            )
