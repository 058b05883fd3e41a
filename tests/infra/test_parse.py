"""Every .bicep and .bicepparam file of infra/ parses with pycep-parser (checkov's parser)."""

from __future__ import annotations

from pathlib import Path

from infra_testkit import INFRA, Run, replace_once


def test_every_file_parses(bicepcheck: Run) -> None:
    done = bicepcheck("parse")
    assert done.returncode == 0, done.stderr
    files = len(list(INFRA.rglob("*.bicep"))) + len(list(INFRA.rglob("*.bicepparam")))
    assert done.stdout.strip() == f"parsed {files} files"
    assert files >= 10


def test_a_syntax_error_fails_naming_the_file(bicepcheck: Run, infra_copy: Path) -> None:
    replace_once(infra_copy / "modules/eventhubs.bicep", "properties: {", "properties: {{")
    done = bicepcheck("parse", infra_copy)
    assert done.returncode == 1
    assert "eventhubs.bicep" in done.stderr


def test_bicepparam_must_use_an_existing_template(bicepcheck: Run, infra_copy: Path) -> None:
    replace_once(infra_copy / "main.bicepparam", "using './main.bicep'", "using './gone.bicep'")
    done = bicepcheck("parse", infra_copy)
    assert done.returncode == 1
    assert "gone.bicep, which does not exist" in done.stderr


def test_bicepparam_sets_only_declared_params(bicepcheck: Run, infra_copy: Path) -> None:
    replace_once(infra_copy / "main.bicepparam", "param prefix =", "param prefixx =")
    done = bicepcheck("parse", infra_copy)
    assert done.returncode == 1
    assert "prefixx not declared in ./main.bicep" in done.stderr


def test_bicepparam_values_parse(bicepcheck: Run, infra_copy: Path) -> None:
    replace_once(infra_copy / "main.bicepparam", "param driverPort = 7000", "param driverPort = [")
    done = bicepcheck("parse", infra_copy)
    assert done.returncode == 1
    assert "main.bicepparam" in done.stderr


def test_bicepparam_gives_every_required_param(bicepcheck: Run, infra_copy: Path) -> None:
    replace_once(infra_copy / "main.bicepparam", "param onCallEmail = 'oncall@example.net'\n", "")
    done = bicepcheck("parse", infra_copy)
    assert done.returncode == 1
    assert "no value for onCallEmail (no default in template)" in done.stderr
