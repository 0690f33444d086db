"""``python -m bot``: the same as the ``jokebot`` command."""

import sys

from bot.cli import main

sys.exit(main())
