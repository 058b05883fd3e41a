"""The local runner's Tekton variable substitution."""

from __future__ import annotations

import pytest
from localrun import variables

VALUES: dict[str, variables.Value] = {
    "params.name": "gateway",
    "params.args": ["--a=1", "--b=2"],
    "tasks.fetch.results.commit": "abc123",
}


def test_strings_are_substituted_and_shell_is_left_alone() -> None:
    text = 'dir="$(mktemp -d)"; echo $(params.name) $(tasks.fetch.results.commit)'
    assert variables.in_string(text, VALUES) == 'dir="$(mktemp -d)"; echo gateway abc123'


def test_an_array_element_is_spliced_into_a_list() -> None:
    assert variables.in_list(["--x", "$(params.args[*])", "$(params.name)"], VALUES) == [
        "--x",
        "--a=1",
        "--b=2",
        "gateway",
    ]


def test_an_unknown_reference_is_an_error() -> None:
    with pytest.raises(variables.UnresolvedReferenceError, match=r"params\.nmae"):
        variables.in_string("$(params.nmae)", VALUES)


def test_an_array_inside_a_string_is_an_error() -> None:
    with pytest.raises(variables.UnresolvedReferenceError, match="array"):
        variables.in_string("x $(params.args[*])", VALUES)


def test_references_lists_every_key() -> None:
    tree = {"a": ["$(params.name)", {"b": "$(tasks.fetch.results.commit) $(params.args[*])"}]}
    assert variables.references(tree) == [
        "params.name",
        "tasks.fetch.results.commit",
        "params.args",
    ]
