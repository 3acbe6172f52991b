"""``python -m bench`` is what ``make bench`` runs."""

from bench.main import main

raise SystemExit(main())
