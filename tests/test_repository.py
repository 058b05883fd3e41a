"""The repository's own contract: the two README commands and CI's entry point."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^(make \S+)$", quick_start, flags=re.MULTILINE)


def test_readme_quick_start_has_exactly_two_commands() -> None:
    assert readme_commands() == ["make up", "make test"]


def test_ci_runs_the_readme_test_command_and_nothing_else() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == "exec make test"
    assert all(line.startswith(("set ", "cd ", "exec make test")) for line in lines)


def test_make_targets_named_in_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for command in readme_commands():
        target = command.split()[1]
        assert re.search(rf"^{re.escape(target)}:", makefile, flags=re.MULTILINE), target
