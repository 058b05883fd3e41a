"""Two KQL constructs Kusto runs and duckdb-kql 1.1.2 refuses, taught to it here,
and one translation shortcut (3.) that keeps the generated SQL cheap to plan.

1. `strcmp(a, b)` — Kusto has no `<` on strings (the analyzer rejects it, KS106), so
   ordering by a string key, as the keyset cursor does, needs strcmp. Rendered as an
   ordinal comparison, which is what Kusto's strcmp is.
2. `take <expression>` (below).

Both are registered through duckdb-kql's own tables and lowering, so the stored functions
run with the exact text deployed to ADX — no engine-specific copy.

`take <expression>`:

Kusto's `take` (and `limit`) accepts any constant scalar expression, so a stored
function can cap its rows with a parameter: `| take maxRows`. duckdb-kql lowers only an
integer literal there and raises KqlUnsupportedError for anything else, which would
force a second, engine-specific copy of every capped function. Instead the engine is
extended here, once, at the three places that handle `take`:

* lowering keeps the count as an IR expression when it is not a literal;
* scalar substitution (function arguments, `let`) reaches into that expression;
* rendering emits `LIMIT <expression>` (a bound placeholder, never spliced text).

3. Typed columns (`typed_columns()`): duckdb-kql's schema carries column names, not
   types, so every bare column in a string context (`isempty(c)`, `c == s`) is rendered
   twice behind a run-time `typeof(c) = 'JSON'` guard in case it turns out `dynamic`.
   The answer is the same, but the SQL doubles in size and DuckDB re-plans it on every
   call (binding dominates a small query: ~50 ms of a 10-row ingest was planning the two
   update-policy INSERTs). Inside `typed_columns(names)` a column of one of those names
   is known not to be dynamic and renders once. LocalKusto passes the columns its
   tables declare with a non-dynamic type (none of ours is dynamic). The one thing this
   assumes: no query re-binds such a name to a dynamic (`extend DeviceId = parse_json(..)`);
   none of the stored functions or API queries does.
4. `floor(x, 1)` / `bin(x, 1)` of a number is rendered as SQL `floor(x)`: the generic
   rendering dispatches on the run-time type through a list lambda per row (integers,
   NaN, infinities, a zero step). With the literal step 1 over a number every branch
   equals `floor(x)` (floor of an integer is itself; of NaN/inf, itself). PowerSeries
   bins with it; datetimes/timespans keep the generic path.

The patch is applied by `apply()` and is idempotent. `tests/test_take_extension.py`
asserts upstream still refuses the construct, so the day it does not, this module can go.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import threading
from collections.abc import Iterable, Iterator
from typing import Any

_lock = threading.Lock()
_applied = False
#: Column names known not to be `dynamic` during the current translation (per thread).
_typed: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "powerwatch_typed_columns", default=frozenset()
)


@contextlib.contextmanager
def typed_columns(names: Iterable[str]) -> Iterator[None]:
    """Translate with these column names known to hold a non-dynamic type."""
    token = _typed.set(frozenset(names))
    try:
        yield
    finally:
        _typed.reset(token)


@dataclasses.dataclass(frozen=True)
class _ExpressionCount:
    """A `take` count that is an expression; formats as its SQL for the LIMIT clause."""

    expr: Any

    def __format__(self, spec: str) -> str:
        from duckdb_kql.translate import render_expr

        return f"({render_expr(self.expr)})"


def apply() -> None:
    """Install the extension into duckdb_kql (once per process)."""
    global _applied
    with _lock:
        if _applied:
            return
        from duckdb_kql import ir, lower
        from duckdb_kql import translate as translate_module
        from duckdb_kql.translate import functions

        original_may_be_dynamic = translate_module._may_be_dynamic

        def may_be_dynamic(node: Any) -> bool:
            if isinstance(node, ir.ColumnRef) and node.name in _typed.get():
                return False
            return bool(original_may_be_dynamic(node))

        translate_module._may_be_dynamic = may_be_dynamic

        original_bin = translate_module._render_bin_or_floor

        def render_bin_or_floor(node: Any) -> Any:
            if _is_unit_step_over_number(node, translate_module):
                return f"floor({translate_module.render_expr(node.args[0])})"
            return original_bin(node)

        for name in ("bin", "floor"):
            translate_module._SPECIAL_FORMS[name] = render_bin_or_floor

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
        _applied = True


def _is_unit_step_over_number(node: Any, translate_module: Any) -> bool:
    """`bin(x, 1)`/`floor(x, 1)` with an integer literal 1 and x not a datetime/timespan."""
    from duckdb_kql import ir

    if len(node.args) != 2:
        return False
    value, step = node.args
    if not (
        isinstance(step, ir.Literal) and step.kind in ("long", "int") and str(step.value) == "1"
    ):
        return False
    return not (
        translate_module._is_datetime_expr(value) or translate_module._is_timespan_expr(value)
    )


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
