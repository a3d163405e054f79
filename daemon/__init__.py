"""tiekeeper: notices relationships that are quietly lapsing.

The package is named ``daemon`` because the design card asks for a top-level ``daemon/`` folder.
The unrelated ``python-daemon`` distribution installs a ``daemon`` package too: never install it
beside tiekeeper (docs/development.md, "The package name ``daemon``", says what happens then).
"""

__version__ = "0.1.0"
