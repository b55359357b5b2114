"""Shared primitives every layer may use: errors and exit codes, the vocabularies (enums),
identifiers. Owns no I/O beyond reading a key file.

May import: nothing from `pipeline`."""
