"""`python -m powerwatch_gateway` runs the gateway CLI."""

from powerwatch_gateway.cli import main

raise SystemExit(main())
