"""Reading INPUT ahead, on a second thread, while the command imports the rest.

The overlap only works while the read path stays free of pandas and scipy, and only
is safe while the thread's errors reach the command as they would have unthreaded.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from clvcli.cli import reading
from clvcli.cli.options import RunOptions
from clvcli.cli.reading import PendingRead, read_settings, start_reading
from clvcli.errors import InputError, UsageError
from clvcli.io.readers import read_transactions

DEFAULTS = {
    "customer_col": None,
    "date_col": None,
    "amount_col": None,
    "channel_col": None,
    "calendar": "auto",
    "date_format": None,
    "timezone": None,
    "encoding": None,
    "delimiter": None,
    "skip_invalid": False,
    "engine": "arrow",
}


def options(**values: object) -> RunOptions:
    return RunOptions({**DEFAULTS, **values})


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "customer_id,date,amount\nc2,2024-01-03,5\nc1,2024-01-01,10\nc1,2024-02-01,20.5\n"
    )
    return str(path)


def test_reads_on_another_thread_what_the_reader_reads(log, monkeypatch):
    threads = []

    def recording(path, settings):
        threads.append(threading.current_thread().name)
        return read_transactions(path, settings)

    monkeypatch.setattr(reading, "read_transactions", recording)
    pending = start_reading(log, options())
    assert isinstance(pending, PendingRead)
    got = pending.result()
    want = read_transactions(log, read_settings(options()))
    assert threads == ["clv-read"]
    assert got.customer_ids.to_pylist() == want.customer_ids.to_pylist() == ["c1", "c2"]
    np.testing.assert_array_equal(got.customer, want.customer)
    np.testing.assert_array_equal(got.day, want.day)
    np.testing.assert_array_equal(got.amount, want.amount)


def test_an_error_of_the_read_is_raised_by_result(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("customer_id,date,amount\nc1,2024-01-01,ten\n")
    pending = start_reading(str(path), options())
    with pytest.raises(InputError, match=r"bad.csv: row 1 \(line 2\), column 'amount'"):
        pending.result()
    with pytest.raises(InputError):  # and again, for a second ask
        pending.result()


@pytest.mark.parametrize(("path", "engine"), [(None, "arrow"), ("-", "arrow"), ("-", "duckdb")])
def test_nothing_is_read_ahead_without_a_file_for_the_default_engine(path, engine):
    assert start_reading(path, options(engine=engine)) == path


def test_a_typed_parquet_log_is_left_to_the_engine(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from clvcli.core.log import EngineLog

    path = tmp_path / "log.parquet"
    days = pa.array([19723, 19724], pa.date32())
    pq.write_table(
        pa.table({"customer_id": ["c1", "c2"], "date": days, "amount": [1.0, 2.0]}), path
    )
    assert isinstance(start_reading(str(path), options(), engine_may_read=True), EngineLog)
    assert isinstance(start_reading(str(path), options()), PendingRead)  # needs the rows


def test_a_bad_option_is_a_usage_error_before_any_read(log):
    with pytest.raises(UsageError, match="--engine spark"):
        start_reading(log, options(engine="spark"))
    with pytest.raises(UsageError, match="--delimiter"):
        start_reading(log, options(delimiter=";;"))


def test_the_read_path_imports_neither_pandas_nor_scipy():
    script = (
        "import sys, clvcli.cli.reading; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'scipy'}))"
    )
    assert _printed_by_fresh_python(script).strip() == "[]"


def test_the_optimiser_can_be_imported_ahead_of_the_fit():
    script = (
        "import sys, clvcli.models as m; before = 'scipy.optimize' in sys.modules; "
        "m.import_optimizer(); print(before, 'scipy.optimize' in sys.modules)"
    )
    assert _printed_by_fresh_python(script).split() == ["False", "True"]


def _printed_by_fresh_python(script: str) -> str:
    """What ``script`` prints in an interpreter that has imported nothing yet."""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_duckdb_is_loaded_only_for_ids_too_long_for_numpys_sort():
    # Loading DuckDB costs a tenth of a second and 30 MiB that short ids, and ids of
    # up to sixteen digits past their shared prefix, never need.
    script = (
        "import sys, numpy as np, pyarrow as pa\n"
        "from clvcli.io import customer_order\n"
        "day = np.array([3, 1, 2])\n"
        "short = customer_order.sort_by_customer(pa.array(['b2', 'a1', 'b2']), day)\n"
        "print(short.ids.to_pylist(), 'duckdb' in sys.modules)\n"
        "mobile = ['09121234567', '09351234567', '09121234567']\n"
        "digits = customer_order.sort_by_customer(pa.array(mobile), day)\n"
        "print(digits.ids.to_pylist() == sorted(set(mobile)), 'duckdb' in sys.modules)\n"
        "long = customer_order.sort_by_customer(pa.array(['b' * 12, 'a' * 12, 'b' * 12]), day)\n"
        "print(long.ids.to_pylist() == ['a' * 12, 'b' * 12], 'duckdb' in sys.modules)\n"
    )
    printed = _printed_by_fresh_python(script).split("\n")[:3]
    assert printed == ["['a1', 'b2'] False", "True False", "True True"]
