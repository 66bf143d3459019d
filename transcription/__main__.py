"""``python -m transcription``: the recording commands until the main CLI wires them in."""

import sys

from .cli import main

sys.exit(main())
