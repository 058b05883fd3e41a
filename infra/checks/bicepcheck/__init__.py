"""Offline checks of infra/: pycep parsing and Microsoft's SDK models as the type schema.

Runs in .venv-infra (requirements/infra-tools.lock), where pycep-parser, checkov and the
azure-mgmt-* packages live; tests/infra drives it as `python -m bicepcheck`.
"""
