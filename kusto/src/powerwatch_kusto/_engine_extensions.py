"""What the deployed KQL needs from duckdb-kql and the tested release does not do.

LocalKusto stands in for ADX and is judged by correctness: this module teaches the
engine only what the stored functions need in order to run at all, each with the
meaning ADX gives it (`tests/test_engine_extensions.py` states each one and checks that
upstream still lacks it — the day it does not, the extension goes):

1. `strcmp(a, b)` — Kusto has no `<` on strings (the analyzer rejects it, KS106), so the
   keyset cursor orders by a string key with strcmp: -1, 0 or 1 by ordinal comparison.
   Added through duckdb-kql's table of scalar functions (`translate.functions`, public).
2. `take <expression>` — Kusto's `take`/`limit` accepts any constant scalar expression,
   so a stored function caps its rows with a parameter (`| take maxRows`). duckdb-kql
   lowers only an integer literal there. Lowering keeps a non-literal count as an
   expression, substitution reaches into it, and it renders as `LIMIT (<expression>)`
   (a bound placeholder, never spliced text).
3. `bin(value, size)` with a timespan *parameter* as the size — Kusto bins a datetime
   from the Unix epoch by that timespan. duckdb-kql decides "temporal" only when the size
   is a timespan literal, and renders a parameter through its numeric path, which fails
   when the query runs. A size that is statically a timespan renders as the literal one
   does.
4. `bag[key]` with a runtime *string* key — Kusto looks a property up by name
   (`dynamic({"a": 1})["a"]`, and the same with a column as the key); an integer key
   indexes an array. duckdb-kql renders every runtime index as an array position
   (`key < 0`), which does not bind for a string column. The per-device threshold bag
   (`DeviceThresholds()[DeviceId]`, read by the detection policy) needs the lookup: a
   runtime index renders as a property path when its value is a string and as the
   array position otherwise (https://learn.microsoft.com/kusto/query/scalar-data-types/dynamic,
   "Dynamic object accessors").

2., 3. and 4. replace five of duckdb-kql's internal functions (two lowering steps, the
`bin` and `floor` special forms, `render_path`), which is why `apply()` first
checks the installed release is the one they were written and tested against
(`TESTED_VERSION`): on any other it refuses with a clear message instead of patching
blind.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import threading
from typing import Any, Final

from .errors import KustoError

#: The duckdb-kql release these extensions were written and tested against.
TESTED_VERSION: Final = "1.1.2"

_lock = threading.Lock()
_applied = False


class EngineVersionError(KustoError):
    """The installed duckdb-kql is not the release LocalKusto is tested with."""


def installed_version() -> str:
    return importlib.metadata.version("duckdb-kql")


def check_version(installed: str | None = None) -> None:
    """Refuse any duckdb-kql but the tested release (read from the package metadata)."""
    found = installed if installed is not None else installed_version()
    if found != TESTED_VERSION:
        raise EngineVersionError(
            f"LocalKusto needs duckdb-kql {TESTED_VERSION} (installed: {found}). Its engine "
            f"extensions (powerwatch_kusto/_engine_extensions.py) are tested with that "
            f"release only: install requirements/lock.txt (`make venv`), or re-test the "
            f"extensions with {found} and update TESTED_VERSION."
        )


@dataclasses.dataclass(frozen=True)
class _ExpressionCount:
    """A `take` count that is an expression; formats as its SQL for the LIMIT clause."""

    expr: Any

    def __format__(self, spec: str) -> str:
        from duckdb_kql.translate import render_expr

        return f"({render_expr(self.expr)})"


def apply() -> None:
    """Install the extensions into duckdb_kql (once per process), after the version check."""
    global _applied
    with _lock:
        if _applied:
            return
        check_version()
        _add_strcmp()
        _allow_take_expression()
        _bin_by_timespan_parameter()
        _index_by_string_key()
        _applied = True


def _add_strcmp() -> None:
    from duckdb_kql.translate import functions

    functions.SCALAR_FUNCTIONS.setdefault(
        "strcmp",
        functions.FunctionSpec(
            "strcmp",
            "template",
            "(CASE WHEN {0} < {1} THEN -1 WHEN {0} > {1} THEN 1 ELSE 0 END)",
            (2,),
            (),
            "powerwatch: ordinal, like Kusto",
        ),
    )


def _allow_take_expression() -> None:
    from duckdb_kql import ir, lower

    original_lower_operator = lower._lower_operator
    original_substitute_operator = lower._substitute_operator

    def lower_operator(node: Any) -> Any:
        try:
            return original_lower_operator(node)
        except Exception as error:
            if not _is_take_refusal(error):
                raise
            count = lower._lower_expr(_count_node(node))
            return ir.Take(_ExpressionCount(count))  # type: ignore[arg-type]

    def substitute_operator(op: Any, scalars: Any) -> Any:
        if isinstance(op, ir.Take) and isinstance(op.count, _ExpressionCount):
            return ir.Take(_ExpressionCount(lower._substitute(op.count.expr, scalars)))  # type: ignore[arg-type]
        return original_substitute_operator(op, scalars)

    lower._lower_operator = lower_operator
    lower._substitute_operator = substitute_operator


def _is_take_refusal(error: Exception) -> bool:
    from duckdb_kql.errors import KqlUnsupportedError

    return isinstance(error, KqlUnsupportedError) and "'take'" in str(error)


def _count_node(node: Any) -> Any:
    """The count expression of a `take`/`limit` parse node (its last rule child)."""
    from duckdb_kql import lower

    while lower._cls(node) in ("PipedOperator", "AfterPipeOperator"):
        node = lower._rule_children(node)[0]
    node = lower._collapse(node)
    return lower._rule_children(node)[-1]


def _bin_by_timespan_parameter() -> None:
    from duckdb_kql import ir
    from duckdb_kql import translate as translate_module

    def temporal(original: Any) -> Any:
        def render(node: Any) -> Any:
            if len(node.args) == 2 and _is_timespan_parameter(node.args[1], ir):
                value, size = node.args
                v, r = translate_module.render_expr(value), translate_module.render_expr(size)
                # What upstream renders for a timespan literal size: epoch arithmetic.
                floored = f"floor(epoch({v}) / epoch({r})) * epoch({r})"
                if translate_module._is_timespan_expr(value):
                    return f"to_seconds(CAST({floored} AS BIGINT))"
                return f"to_timestamp({floored}) AT TIME ZONE 'UTC'"
            return original(node)

        return render

    for name in ("bin", "floor"):  # `floor(x, size)` is `bin` in KQL
        translate_module._SPECIAL_FORMS[name] = temporal(translate_module._SPECIAL_FORMS[name])


def _is_timespan_parameter(node: Any, ir: Any) -> bool:
    return isinstance(node, ir.Parameter) and node.kind == "timespan"


def _index_by_string_key() -> None:
    from duckdb_kql import translate as translate_module

    original = translate_module.render_path

    def render_path(node: Any) -> str:
        if translate_module._static_path(node.steps) is not None:
            return str(original(node))  # a literal path: upstream's one json_extract
        sql = translate_module.render_expr(node.base)
        for step in node.steps:
            if step.name is not None:
                key = translate_module._json_path_key(step.name)
                sql = f"json_extract({sql}, {translate_module.quote_string('$.' + key)})"
                continue
            idx = translate_module.render_expr(step.index)
            # Both branches must bind for either key type: no `<` on the key itself.
            position = f"TRY_CAST({idx} AS BIGINT)"
            frag = (
                f"CASE WHEN typeof({idx}) = 'VARCHAR' THEN '$.' || CAST(to_json({idx}) AS VARCHAR) "
                f"WHEN {position} < 0 THEN '$[#' || CAST({position} AS VARCHAR) || ']' "
                f"ELSE '$[' || CAST({position} AS VARCHAR) || ']' END"
            )
            sql = f"json_extract({sql}, {frag})"
        return sql

    translate_module.render_path = render_path
