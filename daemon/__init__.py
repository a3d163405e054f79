"""tiekeeper: notices relationships that are quietly lapsing.

The package is named ``daemon`` because the design card asks for a top-level ``daemon/`` folder.
It shadows the unrelated ``python-daemon`` distribution: never depend on that one.
"""

__version__ = "0.1.0"
