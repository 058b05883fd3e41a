"""What _engine_extensions teaches duckdb-kql, each stated with the meaning ADX gives it,
and the proof that upstream still lacks it (the day it does not, the extension goes)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from powerwatch_kusto import LocalKusto
from powerwatch_kusto._engine_extensions import (
    TESTED_VERSION,
    EngineVersionError,
    check_version,
    installed_version,
)

UPSTREAM = """
import datetime as dt, duckdb
import duckdb_kql
texts = ("declare query_parameters(n:long); print x = 1 | take n", "print x = strcmp('a', 'b')")
for text in texts:
    try:
        duckdb_kql.to_sql(text)
    except duckdb_kql.KqlUnsupportedError:
        print("refused")
sql = str(duckdb_kql.to_sql(
    "declare query_parameters(b:timespan); print t = bin(datetime(2026-11-25 18:07:59), b)"
))
try:
    duckdb.connect().execute(sql.replace("$kqlp0", "INTERVAL 5 MINUTE")).fetchall()
except duckdb.Error:
    print("fails")
bag = "print k = 'a' | extend v = todouble(dynamic({'a': 1.5})[k])"
try:
    duckdb.connect().execute(str(duckdb_kql.to_sql(bag))).fetchall()
except duckdb.Error:
    print("fails")
"""


def test_upstream_still_lacks_all_four() -> None:
    # A fresh interpreter: this process has the extensions applied.
    out = subprocess.run(
        [sys.executable, "-c", UPSTREAM], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["refused", "refused", "fails", "fails"], (
        "upstream caught up: drop that extension from _engine_extensions"
    )


def test_strcmp_is_ordinal_minus_one_zero_or_one(kusto: LocalKusto) -> None:
    # ADX: strcmp(a, b) is -1 when a sorts before b, 1 after, 0 equal (ordinal: 'B' < 'a').
    result = kusto.query(
        "print a = strcmp('a', 'b'), b = strcmp('b', 'a'), c = strcmp('x', 'x'), "
        "d = strcmp('B', 'a'), e = strcmp('drv-10', 'drv-9')"
    )
    assert result.rows == [(-1, 1, 0, -1, -1)]


def test_take_accepts_a_parameter_expression(kusto: LocalKusto) -> None:
    # ADX: `take` takes any constant scalar expression, here a declared parameter.
    text = "declare query_parameters(n:long); range x from 1 to 10 step 1 | take n + 1"
    assert len(kusto.query(text, {"n": 2}).rows) == 3
    stored = "declare query_parameters(n:long); range x from 1 to 10 step 1 | take n"
    assert len(kusto.query(stored, {"n": 0}).rows) == 0


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (dt.timedelta(minutes=5), dt.datetime(2026, 11, 25, 18, 5, tzinfo=dt.UTC)),
        (dt.timedelta(hours=1), dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)),
        # Bins start at the Unix epoch, not at midnight: 7 h bins fall on 03:00, 10:00,
        # 17:00 that day (midnight falls 4 h into a bin that began at 20:00).
        (dt.timedelta(hours=7), dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)),
    ],
)
def test_bin_by_a_timespan_parameter_floors_from_the_epoch(
    kusto: LocalKusto, size: dt.timedelta, expected: dt.datetime
) -> None:
    # ADX: bin(datetime, timespan) rounds down to a multiple of the size since 1970-01-01.
    text = "declare query_parameters(b:timespan); print t = bin(datetime(2026-11-25 18:07:59), b)"
    assert kusto.query(text, {"b": size}).rows == [(expected,)]
    literal = kusto.query(f"print t = bin(datetime(2026-11-25 18:07:59), {_kql(size)})")
    assert literal.rows == [(expected,)]  # the same as upstream's literal rendering
    floored = text.replace("bin(", "floor(")
    assert kusto.query(floored, {"b": size}).rows == [(expected,)]  # floor is bin in KQL


def test_bin_of_a_timespan_by_a_timespan_parameter_is_a_timespan(kusto: LocalKusto) -> None:
    text = "declare query_parameters(b:timespan); print t = bin(14d + 3h, b)"
    assert kusto.query(text, {"b": dt.timedelta(days=1)}).rows == [(dt.timedelta(days=14),)]


def _kql(size: dt.timedelta) -> str:
    return f"{int(size.total_seconds())}s"


def test_the_tested_release_is_installed_and_others_are_refused() -> None:
    assert installed_version() == TESTED_VERSION
    check_version(TESTED_VERSION)
    with pytest.raises(
        EngineVersionError, match=r"needs duckdb-kql 1\.1\.2 \(installed: 1\.2\.0\)"
    ):
        check_version("1.2.0")


def test_local_kusto_refuses_to_start_on_another_release() -> None:
    # A fresh interpreter where the installed version reads differently: LocalKusto()
    # must stop before patching anything.
    code = (
        "import importlib.metadata as m\n"
        "real = m.version\n"
        "m.version = lambda name: '9.9.9' if name == 'duckdb-kql' else real(name)\n"
        "from powerwatch_kusto import LocalKusto\n"
        "try:\n"
        "    LocalKusto()\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("EngineVersionError LocalKusto needs duckdb-kql 1.1.2"), out
    assert "installed: 9.9.9" in out.stdout


def test_a_runtime_string_key_looks_a_property_up_by_name(kusto: LocalKusto) -> None:
    # ADX: bag[key] with a string key is the property of that name (null when absent);
    # an integer key indexes an array, a negative one from the end
    # (https://learn.microsoft.com/kusto/query/scalar-data-types/dynamic).
    text = (
        "datatable(k: string, i: long) ['a', 0, 'drv-lab-01', -1, 'missing', 5] "
        "| extend bag = dynamic({'a': 1.5, 'drv-lab-01': 3000.0}), arr = dynamic([10, 20, 30]) "
        "| project k, byName = todouble(bag[k]), byPosition = tolong(arr[i]), "
        "stringOnArray = tolong(arr[k])"
    )
    assert kusto.query(text).rows == [
        ("a", 1.5, 10, None),
        ("drv-lab-01", 3000.0, 30, None),
        ("missing", None, None, None),
    ]
