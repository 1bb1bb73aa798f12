"""``python -m analysis.demo [--root DIR] [--seed N]``: regenerate the demo program's input files."""

from .write import main

raise SystemExit(main())
