"""Powerwatch's Kusto schema as code: load the .kql scripts, deploy them, run them locally.

    from powerwatch_kusto import load_schema, LocalKusto
    schema = load_schema()
    with LocalKusto() as kusto:
        kusto.ingest(records)
        kusto.query(schema.call_query("CriticalEvents"), {...})

See kusto/README.md for the function signatures and the LocalKusto contract.
"""

from ._engine_extensions import EngineVersionError
from .errors import DeployError, IngestError, KustoError, QueryError, ScriptError, StorageError
from .loader import DEFAULT_ROOT, KustoSchema, load_schema
from .local import IngestResult, LocalKusto, QueryResult
from .model import (
    Column,
    Function,
    Mapping,
    MappingEntry,
    MaterializedView,
    Parameter,
    Policy,
    Script,
    Table,
    UpdatePolicy,
)

__all__ = [
    "DEFAULT_ROOT",
    "Column",
    "DeployError",
    "EngineVersionError",
    "Function",
    "IngestError",
    "IngestResult",
    "KustoError",
    "KustoSchema",
    "LocalKusto",
    "Mapping",
    "MappingEntry",
    "MaterializedView",
    "Parameter",
    "Policy",
    "QueryError",
    "QueryResult",
    "Script",
    "ScriptError",
    "StorageError",
    "Table",
    "UpdatePolicy",
    "load_schema",
]
