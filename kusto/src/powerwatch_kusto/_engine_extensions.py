"""Two KQL constructs Kusto runs and duckdb-kql 1.1.2 refuses, taught to it here.

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

The patch is applied by `apply()` and is idempotent. `tests/test_take_extension.py`
asserts upstream still refuses the construct, so the day it does not, this module can go.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

_lock = threading.Lock()
_applied = False


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
