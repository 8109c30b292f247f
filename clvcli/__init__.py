"""clv: customer lifetime value from a transaction log.

The package is a library first: ``clvcli.core`` and ``clvcli.io`` work without the
command-line layer, which lives in ``clvcli.cli``.
"""

__version__ = "0.1.0"
