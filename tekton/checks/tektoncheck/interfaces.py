"""What a Pipeline can see of a Task: its params, workspaces and results.

Local Tasks are read from their YAML. A Task fetched by a resolver is not in this
repository, so its interface is written down here from its published source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tektoncheck.documents import Doc


@dataclass(frozen=True)
class TaskInterface:
    params: dict[str, bool]  # name -> required (no default)
    workspaces: dict[str, tuple[bool, bool]]  # name -> (optional, readOnly)
    results: frozenset[str]


def of_task(doc: Doc) -> TaskInterface:
    return of_spec(doc.spec)


def of_spec(spec: dict[str, Any]) -> TaskInterface:
    params = {p["name"]: "default" not in p for p in spec.get("params") or []}
    workspaces = {
        w["name"]: (bool(w.get("optional")), bool(w.get("readOnly")))
        for w in spec.get("workspaces") or []
    }
    results = frozenset(r["name"] for r in spec.get("results") or [])
    return TaskInterface(params, workspaces, results)


# tektoncd-catalog/git-clone task/git-clone/git-clone.yaml at v1.7.0 (commit
# c166e562): the maintained git-clone. Only `url` is required.
GIT_CLONE = TaskInterface(
    params={
        name: name == "url"
        for name in (
            *("url", "revision", "refspec", "submodules", "submodulePaths", "depth"),
            *("sslVerify", "crtFileName", "subdirectory", "sparseCheckoutDirectories"),
            *("deleteExisting", "httpProxy", "httpsProxy", "noProxy", "verbose"),
            *("userFriendlyErrors", "gitInitImage", "userHome"),
        )
    },
    workspaces={
        "output": (False, False),
        "ssh-directory": (True, False),
        "basic-auth": (True, False),
        "ssl-ca-directory": (True, False),
    },
    results=frozenset({"commit", "url", "committer-date"}),
)
RESOLVED_TASKS = {"git-clone": GIT_CLONE}
