"""The line controller daemon's persistence: lots, results, units, alarms and events in SQLite
or PostgreSQL.

See docs/store.md for the schema, transactions and threads, idempotency and migrations.
"""

from packline.store.schema import MIGRATIONS
from packline.store.store import LineTaken, SchemaTooNew, Store, StoreError

__all__ = ["MIGRATIONS", "LineTaken", "SchemaTooNew", "Store", "StoreError"]
