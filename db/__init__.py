"""Storage: the schema, its migrations, and every read and write of the database.

SQL lives here and nowhere else; pipeline steps call these functions.
"""

from db.connection import open_db

__all__ = ["open_db"]
