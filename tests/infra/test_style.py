"""Every param of infra/, and every output of main.bicep, says what it is.

The Bicep linter's use-descriptions rule, which cannot run here; module outputs are
plumbing between the modules and main.bicep, so only main's outputs (the ones an
operator reads) must carry one.
"""

from __future__ import annotations

from typing import Any


def undescribed(trees: dict[str, Any]) -> list[str]:
    found = []
    for file, tree in trees.items():
        sections = ["parameters"] + (["outputs"] if file == "main.bicep" else [])
        for section in sections if file.endswith(".bicep") else []:
            for name, spec in tree.get(section, {}).items():
                if "description" not in {d.get("type") for d in spec.get("decorators", [])}:
                    found.append(f"{file}:{name}")
    return sorted(found)


def test_every_param_and_main_output_is_described(trees: dict[str, Any]) -> None:
    assert undescribed(trees) == []


def test_an_undescribed_param_is_found(trees: dict[str, Any]) -> None:
    broken = {"modules/x.bicep": {"parameters": {"name": {"decorators": []}}}}
    assert undescribed({**trees, **broken}) == ["modules/x.bicep:name"]
