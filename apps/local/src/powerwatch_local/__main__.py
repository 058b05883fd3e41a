"""`python -m powerwatch_local` starts the platform (the same as `make up`)."""

from powerwatch_local.stack import main

raise SystemExit(main())
