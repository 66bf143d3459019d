"""``python -m agreements demo --out DIR`` / ``python -m agreements verify FILE.pdf``."""

from .cli import main

raise SystemExit(main())
