"""``python -m server`` is the ``isa`` command."""

from server.cli import main

raise SystemExit(main())
