"""Two KQL constructs Kusto runs and duckdb-kql 1.1.2 refuses, taught to it here,
and translation shortcuts (3.-12.) that keep the generated SQL cheap to plan.

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

Plan-size shortcuts. DuckDB binds and optimizes the whole statement on every call, and
that, not execution, is most of an API call's time: each CTE stage is a subquery to bind
and a projection for every optimizer pass, each guard a CASE to rewrite. Each shortcut
below gives the same rows as the upstream rendering, and applies only where that holds;
`upstream_rendering()` turns 5.-12. off (tests run both and compare).

5. A `datetime(...)` literal is `TIMESTAMP '...'` when its text is an ISO date or date
   and time (to whole microseconds, optional `Z`) that Python parses: upstream's
   `COALESCE(TRY_CAST(text AS TIMESTAMPTZ) AT TIME ZONE 'UTC', try_strptime(text, [9
   formats]))` reads exactly that value from such a text. Assumes the session time zone
   is UTC, which LocalKusto sets on every cursor (upstream's cast reads a text without
   `Z` in the session zone; Kusto reads it as UTC). Other texts keep the upstream form.
6. `isempty(p)` / `isnotempty(p)` of a string parameter or literal skip the second
   `CAST(... AS VARCHAR)`: the argument already renders as a VARCHAR.
7. `a == b` directly under a `where`, reached only through `and`/`or`, is plain SQL
   `a = b`, without the `CASE WHEN a IS NULL AND b IS NULL THEN NULL ELSE coalesce(a = b,
   FALSE) END` guard. The guard only decides between null and false, and there a null and
   a false keep the same rows: `where` keeps a row when the predicate is true, and
   `and`/`or` are monotone (if a null operand gives true, so does false, and vice versa).
   Anywhere else — `not(...)`, `extend`, a function argument, or a comparison that also
   occurs in such a place — the guard stays.
8. `strcmp(a, b) <op> 0` is `coalesce(a <op> b, <strcmp of a null = 0, compared to 0>)`
   instead of a three-way CASE compared with 0; and, in a position of 7. where that
   fallback is false, plain `a <op> b`.
9. `where a | where b` is one stage `where (a) and (b)` (kept rows: both true either
   way), and `sort by k | take n` one stage `ORDER BY k LIMIT n` (`top n by k`).
10. Pass-through stages: a pipeline's source stage `_s0 AS (SELECT * FROM "T")` is
   dropped and its first operator reads `"T"` itself; when that operator is a `where p`
   and the next one a `SELECT ... FROM <it> [GROUP BY ...]` (project, extend,
   project-away, summarize), that one reads `FROM "T" WHERE (p)` itself (rows filtered
   before the select list and the grouping, as through the stage); and the closing
   `..., _sN AS (<sql>) SELECT * FROM _sN` becomes `... <sql>`. Same relation, up to
   three subqueries fewer per pipeline (every stored function is one). Done on the text
   duckdb-kql builds, only when it has exactly the expected shape; otherwise the stage
   stays (then unreferenced or read as before: still correct, only larger).
11. `tolong(floor(t / span, 1))` with a timespan operand (PowerIncidents' buckets): the
   argument is `floor(epoch(..) / epoch(..))`, a DOUBLE whatever the values, so only the
   DOUBLE branch of upstream's run-time type dispatch is rendered (same lambda, same
   NaN/inf/overflow handling).
12. A `project` of bare columns writes `"a"`, not `"a" AS "a"`.

The patch is applied by `apply()` and is idempotent. `tests/test_engine_extensions.py`
asserts upstream still refuses 1./2. (the day it does not, those can go), that each
shortcut renders its short form, and that it answers as the upstream rendering does.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

_lock = threading.Lock()
_applied = False
#: Column names known not to be `dynamic` during the current translation (per thread).
_typed: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "powerwatch_typed_columns", default=frozenset()
)


#: Whether the plan-size shortcuts (5.-12.) apply; off only to compare with upstream.
_slim: contextvars.ContextVar[bool] = contextvars.ContextVar("powerwatch_slim_sql", default=True)
#: The `where` comparisons whose null and false are interchangeable (see 7.), by repr.
_positive: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "powerwatch_positive_nodes", default=frozenset()
)


@contextlib.contextmanager
def upstream_rendering() -> Iterator[None]:
    """Translate without the plan-size shortcuts 5.-12. (tests compare both renderings)."""
    token = _slim.set(False)
    try:
        yield
    finally:
        _slim.reset(token)


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
        _install_slim_rendering(translate_module, ir)
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


# -- plan-size shortcuts (5.-12.) -----------------------------------------------------

#: ISO dates DuckDB's `TRY_CAST(... AS TIMESTAMPTZ)` reads exactly: date, or date and time
#: to whole microseconds, `T` or space between, optional `Z`. Anything else keeps upstream.
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z?)?",
)
#: `strcmp(a, b) <op> 0` as `a <op'> b`, and the answer when a or b is null (strcmp 0).
_COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">="})
_STRCMP_AGAINST_ZERO = {
    "<": ("<", "FALSE"),
    ">": (">", "FALSE"),
    "<=": ("<=", "TRUE"),
    ">=": (">=", "TRUE"),
    "==": ("=", "TRUE"),
    "!=": ("<>", "FALSE"),
}


def _install_slim_rendering(translate_module: Any, ir: Any) -> None:
    """Patches 5.-12.: the same answers from SQL with fewer stages and expressions."""
    original_literal = translate_module.render_literal
    original_expr = translate_module.render_expr
    original_operator = translate_module.render_operator
    original_scoped = translate_module._render_scoped
    original_source = translate_module.render_source

    def render_literal(lit: Any) -> str:
        if _slim.get() and lit.kind == "datetime" and lit.value is not None:
            constant = _datetime_constant(str(lit.value))
            if constant is not None:
                return constant
        return str(original_literal(lit))

    def render_expr(node: Any) -> str:
        if _slim.get() and isinstance(node, ir.BinaryOp):
            short = _comparison_shortcut(node, translate_module, ir)
            if short is not None:
                return short
        return str(original_expr(node))

    def render_operator(op: Any, prev: str, cols: list[str] | None = None) -> str:
        if not _slim.get():
            return str(original_operator(op, prev, cols))
        frame, prev = _reading_table(prev)
        filtered = _filtered_input(frame, prev, op, ir)
        if filtered is not None:
            prev = _INPUT  # rendered with a marker, replaced below
        token = _positive.set(
            _positive_keys(op.predicate, ir) if isinstance(op, ir.Where) else frozenset()
        )
        try:
            columns = _renamed_columns(op, translate_module, ir)
            if columns is not None:
                sql = f"SELECT {columns} FROM {prev}"  # noqa: S608  # nosec B608 - quoted identifiers
            elif isinstance(op, ir.Top) and isinstance(op.count, _ExpressionCount):
                # Only patch 9. makes these: `sort | take <expression>` in one stage.
                keys = translate_module.render_sort_keys(op.keys)
                sql = f"SELECT * FROM {prev} ORDER BY {keys} LIMIT {op.count}"  # noqa: S608  # nosec B608 - rendered IR, values bound
            else:
                sql = str(original_operator(op, prev, cols))
        finally:
            _positive.reset(token)
        if frame is not None and filtered is not None:
            sql = _reading_filtered(sql, frame, filtered)
        elif frame is not None and isinstance(op, ir.Where) and prev == frame.table:
            frame.first_where = sql
        if frame is not None:
            frame.last = sql
        return sql

    def render_scoped(query: Any, schema: Any, scope: Any) -> Any:
        if not _slim.get():
            return original_scoped(query, schema, scope)
        fused = _fused_operators(list(query.operators), ir)
        if len(fused) != len(query.operators):
            query = dataclasses.replace(query, operators=fused)
        names = translate_module._NAMES_STATE.get()
        frame = _Pipeline(translate_module._stage_prefix(names.taken) + "0")
        token = _pipelines.set((*_pipelines.get(), frame))
        try:
            result = original_scoped(query, schema, scope)
        finally:
            _pipelines.reset(token)
        text = _without_pass_through_stages(str(result), frame, list(names.withs[-1]))
        if text == result:
            return result
        slimmer = translate_module.TranslationResult(text)
        slimmer.__dict__.update(result.__dict__)
        return slimmer

    def joining(original: Any) -> Any:
        def render(op: Any, prev: str, *rest: Any) -> str:
            if not _slim.get():
                return str(original(op, prev, *rest))
            frame, prev = _reading_table(prev)
            sql = str(original(op, prev, *rest))
            if frame is not None:
                frame.last = sql
            return sql

        return render

    translate_module.render_join = joining(translate_module.render_join)
    translate_module.render_lookup = joining(translate_module.render_lookup)

    def render_source(source: Any, schema: Any) -> str:
        sql = str(original_source(source, schema))
        frames = _pipelines.get()
        if frames and frames[-1].source is None:
            frames[-1].source = sql
        return sql

    translate_module.render_literal = render_literal
    translate_module.render_expr = render_expr
    translate_module.render_operator = render_operator
    translate_module._render_scoped = render_scoped
    translate_module.render_source = render_source

    isempty = translate_module._SPECIAL_FORMS.get("isempty")
    isnotempty = translate_module._SPECIAL_FORMS.get("isnotempty")

    def render_isempty(node: Any) -> str | None:
        arg = _string_argument(node, translate_module, ir)
        if arg is not None:
            return f"({arg} IS NULL OR {arg} = '')"
        return isempty(node) if isempty is not None else None

    def render_isnotempty(node: Any) -> str | None:
        arg = _string_argument(node, translate_module, ir)
        if arg is not None:
            return f"({arg} IS NOT NULL AND {arg} <> '')"
        return isnotempty(node) if isnotempty is not None else None

    translate_module._SPECIAL_FORMS["isempty"] = render_isempty
    translate_module._SPECIAL_FORMS["isnotempty"] = render_isnotempty

    tolong = translate_module._SPECIAL_FORMS.get("tolong")

    def render_tolong(node: Any) -> str | None:
        if _slim.get() and len(node.args) == 1 and _is_double(node.args[0], translate_module, ir):
            # Upstream's lambda with only the branch `typeof(_v) = 'DOUBLE'` takes.
            body = translate_module._integer_from_real("CAST(_v AS DOUBLE)", 64)
            value = translate_module.render_expr(node.args[0])
            return f"list_transform([{value}], lambda _v: {body})[1]"
        return tolong(node) if tolong is not None else None

    translate_module._SPECIAL_FORMS["tolong"] = render_tolong


@dataclasses.dataclass
class _Pipeline:
    """What patch 10. learns while one pipeline (a query or a `let` body) renders."""

    stage0: str  # the name of its first stage, the source
    source: str | None = None  # the SQL of that stage
    table: str | None = None  # set once the first operator reads the table directly
    last: str | None = None  # the SQL of the last operator rendered
    first_where: str | None = None  # the first operator's SQL, when a `where` on `table`
    where_fused: bool = False  # the second operator reads `table WHERE ...` itself

    @property
    def stage1(self) -> str:
        return self.stage0[:-1] + "1"


_pipelines: contextvars.ContextVar[tuple[_Pipeline, ...]] = contextvars.ContextVar(
    "powerwatch_pipelines", default=()
)
_TABLE_SCAN = re.compile(r'SELECT \* FROM ((?:"(?:[^"]|"")+")(?:\.(?:"(?:[^"]|"")+"))*)')
_SEPARATOR = ",\n     "  # between CTEs, as duckdb-kql joins them


def _table_scan(source: str | None) -> str | None:
    """The quoted table of a source stage that is exactly `SELECT * FROM <table>`."""
    match = _TABLE_SCAN.fullmatch(source or "")
    return match.group(1) if match else None


#: Stands for an operator's input while it renders (patch 10.); never left in the SQL.
_INPUT = '"__powerwatch_input__"'
#: Operators whose SQL is `SELECT ... FROM <input>[ GROUP BY ...]`.
_SELECTS_FROM_INPUT = ("Project", "Extend", "Summarize", "ProjectAway")


def _filtered_input(frame: _Pipeline | None, prev: str, op: Any, ir: Any) -> str | None:
    """`<table> WHERE (<p>)` when *op* reads the stage of a first `where <p>` on a table."""
    if (
        frame is None
        or frame.first_where is None
        or frame.where_fused
        or prev != frame.stage1
        or type(op).__name__ not in _SELECTS_FROM_INPUT
        or not isinstance(op, getattr(ir, type(op).__name__))
    ):
        return None
    head = f"SELECT * FROM {frame.table} WHERE "  # noqa: S608  # nosec B608 - compared, not run
    if not frame.first_where.startswith(head):
        return None  # e.g. `SELECT * EXCLUDE (<bound>) FROM (...)`
    return f"{frame.table} WHERE ({frame.first_where[len(head) :]})"


def _reading_filtered(sql: str, frame: _Pipeline, filtered: str) -> str:
    """*sql* reading `<table> WHERE (<p>)` directly, if it is `SELECT ... FROM <input>` (then
    `[ GROUP BY ...]`); else reading the `where` stage, exactly as upstream renders it."""
    source = f"FROM {_INPUT}"
    before, found, after = sql.partition(source)
    if found and _INPUT not in before + after and (not after or after.startswith(" GROUP BY ")):
        frame.where_fused = True
        return f"{before}FROM {filtered}{after}"
    return sql.replace(_INPUT, frame.stage1)


def _reading_table(prev: str) -> tuple[_Pipeline | None, str]:
    """The current pipeline, and what its operator reads: the table itself instead of
    a first stage that is only `SELECT * FROM <table>` (patch 10.)."""
    frames = _pipelines.get()
    frame = frames[-1] if frames else None
    if frame is not None and prev == frame.stage0 and frame.table is None:
        table = _table_scan(frame.source)
        if table is not None:
            frame.table = prev = table
    return frame, prev


def _without_pass_through_stages(text: str, frame: _Pipeline, lets: list[str]) -> str:
    """Patch 10.: drop the source stage the first operator no longer reads, and make the
    last stage the statement itself instead of `SELECT * FROM <last stage>`.

    The text is duckdb-kql's `WITH <lets>, <stages> SELECT * FROM <last>` exactly; any
    other shape is returned unchanged (still correct, only larger).
    """
    head = "WITH " + "".join(cte + _SEPARATOR for cte in lets)
    if frame.table is not None:
        stage0 = f"{frame.stage0} AS ({frame.source}){_SEPARATOR}"
        if text.startswith(head + stage0):
            text = head + text[len(head) + len(stage0) :]
            stage1 = f"{frame.stage1} AS ({frame.first_where}){_SEPARATOR}"
            if frame.where_fused and text.startswith(head + stage1):
                text = head + text[len(head) + len(stage1) :]
    # With no operator the source stage is the last one.
    last = frame.last if frame.last is not None else frame.source
    body = text.rpartition("\nSELECT * FROM ")[2]
    tail = f"{body} AS ({last})\nSELECT * FROM {body}"  # nosec B608 - compared with generated text, not run
    if last is None or not last.startswith("SELECT ") or not text.endswith(tail):
        return text
    before = text[: -len(tail)]
    if before == "WITH ":
        return last
    if before.endswith(_SEPARATOR):
        return before[: -len(_SEPARATOR)] + "\n" + last
    return text


def _datetime_constant(text: str) -> str | None:
    """`TIMESTAMP '...'` for a datetime literal text DuckDB's cast reads, else None.

    Upstream's `TRY_CAST(text AS TIMESTAMPTZ) AT TIME ZONE 'UTC'` reads such a text as
    UTC wall time (LocalKusto's sessions run in UTC; `Z` says so explicitly), which is the
    value parsed here. An impossible date (Feb 30) is refused by Python and keeps the
    upstream rendering.
    """
    if _ISO_DATETIME.fullmatch(text) is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.removesuffix("Z"))
    except ValueError:
        return None
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


def _is_double(node: Any, translate_module: Any, ir: Any) -> bool:
    """`floor(a / b, 1)` with a timespan operand: DuckDB computes it as
    `floor(epoch(a) / epoch(b))`, a DOUBLE whatever the values (patch 4. and upstream's
    timespan division)."""
    if not (
        isinstance(node, ir.FunctionCall)
        and node.name.lower() in ("floor", "bin")
        and _is_unit_step_over_number(node, translate_module)
    ):
        return False
    value = node.args[0]
    return (
        isinstance(value, ir.BinaryOp)
        and value.op == "/"
        and (
            translate_module._is_timespan_expr(value.left)
            or translate_module._is_timespan_expr(value.right)
        )
    )


def _renamed_columns(op: Any, translate_module: Any, ir: Any) -> str | None:
    """Patch 12.: a `project` of bare columns as `"a", "b" AS "c"` — not `"a" AS "a"`."""
    if not isinstance(op, ir.Project) or not all(
        isinstance(e.expr, ir.ColumnRef) and translate_module.sharing.slot_for(e.expr) is None
        for e in op.expressions
    ):
        return None
    quote = translate_module.quote_ident
    names = translate_module.naming.project_names(op.expressions)
    return ", ".join(
        quote(name) if e.expr.name == name else f"{quote(e.expr.name)} AS {quote(name)}"
        for e, name in zip(op.expressions, names, strict=True)
    )


def _string_argument(node: Any, translate_module: Any, ir: Any) -> str | None:
    """The SQL of the one argument of `isempty`/`isnotempty` when it is a VARCHAR already."""
    if not _slim.get() or len(node.args) != 1:
        return None
    arg = node.args[0]
    if not (isinstance(arg, (ir.Parameter, ir.Literal)) and arg.kind == "string"):
        return None
    if arg.value is None if isinstance(arg, ir.Literal) else False:
        return None
    return str(translate_module._render_arg(node.name, 0, arg))


def _positive_keys(predicate: Any, ir: Any) -> frozenset[str]:
    """Comparisons reached from a `where` predicate through `and`/`or` only, by structure.

    `where` keeps a row when the predicate is true, and `and`/`or` are monotone in
    three-valued logic, so at these nodes a null and a false keep the same rows. A
    comparison that also occurs anywhere else in the predicate (under `not`, in a
    function, in a nested query) is left out: IR nodes can be shared, and sharing may bind
    a repeated expression to one column.
    """
    positive: set[str] = set()
    elsewhere: set[str] = set()
    stack: list[tuple[Any, bool]] = [(predicate, True)]
    while stack:
        node, at_top = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend((item, False) for item in node)
            continue
        if not dataclasses.is_dataclass(node) or isinstance(node, type):
            continue
        if isinstance(node, ir.BinaryOp) and node.op in _COMPARISONS:
            (positive if at_top else elsewhere).add(repr(node))
        if isinstance(node, ir.BinaryOp) and node.op in ("and", "or"):
            stack.extend(((node.left, at_top), (node.right, at_top)))
        else:
            stack.extend((getattr(node, f.name), False) for f in dataclasses.fields(node))
    return frozenset(positive - elsewhere)


def _comparison_shortcut(node: Any, translate_module: Any, ir: Any) -> str | None:
    """Patches 7. and 8.: `==` where null equals false, `strcmp(a, b) <op> 0`."""
    if translate_module.sharing.slot_for(node) is not None:
        return None
    keys = _positive.get()
    positive = bool(keys) and repr(node) in keys
    left, right = node.left, node.right
    against_zero = _STRCMP_AGAINST_ZERO.get(node.op)
    if (
        against_zero is not None
        and isinstance(left, ir.FunctionCall)
        and left.name.lower() == "strcmp"
        and len(left.args) == 2
        and isinstance(right, ir.Literal)
        and right.kind in ("long", "int")
        and str(right.value) == "0"
        and translate_module.sharing.slot_for(left) is None
    ):
        sql_op, when_null = against_zero
        a, b = (translate_module._render_arg("strcmp", i, arg) for i, arg in enumerate(left.args))
        compared = f"({a} {sql_op} {b})"
        return (
            compared if positive and when_null == "FALSE" else f"coalesce({compared}, {when_null})"
        )
    if node.op != "==" or not positive:
        return None
    if translate_module._is_dynamic_expr(left) and translate_module._is_dynamic_expr(right):
        return None  # upstream refuses this (Kusto SEM0001)
    template = translate_module.BINARY_OPERATORS["=="].template
    rendered = (
        (left, translate_module.render_expr(left)),
        (right, translate_module.render_expr(right)),
    )

    def build(sqls: Any) -> str:
        return str(template.format(*sqls))

    if translate_module._is_string_context(node):
        return str(translate_module._in_string_context(rendered, build))
    return build([sql for _, sql in rendered])


def _fused_operators(operators: list[Any], ir: Any) -> list[Any]:
    """Patch 9.: `where a | where b` as `where a and b`, `sort | take n` as `top n`."""
    fused: list[Any] = []
    for op in operators:
        last = fused[-1] if fused else None
        if isinstance(op, ir.Where) and isinstance(last, ir.Where):
            fused[-1] = ir.Where(ir.BinaryOp("and", last.predicate, op.predicate))
        elif (
            isinstance(op, ir.Take)
            and isinstance(last, ir.Sort)
            and (
                isinstance(op.count, _ExpressionCount)
                or (isinstance(op.count, int) and op.count >= 0)
            )
        ):
            fused[-1] = ir.Top(op.count, last.keys)
        else:
            fused.append(op)
    return fused
