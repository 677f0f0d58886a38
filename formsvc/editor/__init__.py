"""The form editor: definitions kept in the database, their drafts, publishing and history.

store.py keeps the definitions (YAML text, as the loader reads it) and the catalog generation that tells
every worker a publish happened; catalog.py reads them.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import pages  # the pages import the catalog, which imports this package's store

    pages.init_app(app)
