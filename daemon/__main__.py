"""``python -m daemon`` runs the tiekeeper command line."""

from daemon.cli import main

raise SystemExit(main())
