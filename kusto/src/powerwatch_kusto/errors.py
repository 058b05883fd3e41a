"""Errors raised by powerwatch_kusto; each names what failed and where."""


class KustoError(Exception):
    """Base class of every powerwatch_kusto error."""


class ScriptError(KustoError):
    """A .kql file could not be parsed into a known command."""


class DeployError(KustoError):
    """A management command failed on the cluster (names the file and the command)."""


class IngestError(KustoError):
    """A batch was rejected; nothing of it was stored."""


class StorageError(KustoError):
    """A local database file cannot be opened as it is (names the file and the fix)."""


class QueryError(KustoError):
    """A query could not be translated or run on the local engine."""
