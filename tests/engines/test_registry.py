"""The engines --engine names, and what each answers."""

from __future__ import annotations

import pytest

from clvcli.engines import engine_named, engine_names
from clvcli.errors import UsageError


def test_the_default_and_its_old_name_are_duckdb():
    assert engine_named(None).name == engine_named("arrow").name == "duckdb"


def test_spark_answers_no_question_of_the_seam_and_is_refused_in_one_line():
    """Spark runs whole commands on a cluster; a command that asked the seam for it
    would otherwise stop on an internal error."""
    assert "spark" in engine_names()
    with pytest.raises(UsageError, match="on the default engine only"):
        engine_named("spark")


def test_an_unknown_engine_is_a_usage_error():
    with pytest.raises(UsageError, match="is not one of: duckdb"):
        engine_named("bigquery")
