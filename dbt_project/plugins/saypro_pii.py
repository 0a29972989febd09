"""dbt-duckdb plugin: `saypro_pii_hash(value)`, the salted hash of an e-mail address or phone number
(DESIGN.md section 5), as a function of the dbt connection.

The salt is read here, from the process environment, and lives only in this process's memory:
a macro that read `env_var('SAYPRO_PII_SALT')` inlined it into compiled SQL, stored view
definitions, dbt's logs and its partial-parse file, and anyone with a copy of those could hash
known addresses and find them. Value: hex SHA-256 of salt || lower(trim(value)); NULL for an
empty or missing value.
"""

from __future__ import annotations

import hashlib
import os

import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

SALT_VARIABLE = "SAYPRO_PII_SALT"


def pii_hash(values: pa.Array) -> pa.Array:
    salt = os.environ.get(SALT_VARIABLE, "")
    if not salt:
        raise ValueError(f"{SALT_VARIABLE} is not set: staging cannot hash e-mail addresses and "
                         "phone numbers. Set it to a long random secret and keep it stable.")
    prefix = salt.encode()
    out = []
    for value in values.to_pylist():
        text = (value or "").strip(" ").lower()  # as SQL's trim(): spaces only
        out.append(hashlib.sha256(prefix + text.encode()).hexdigest() if text else None)
    return pa.array(out, type=pa.string())


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        conn.create_function("saypro_pii_hash", pii_hash, ["VARCHAR"], "VARCHAR", type="arrow",
                             side_effects=False)
