"""Shared primitives every layer may use: errors and exit codes (errors), the vocabularies as
enums (vocabulary), identifier syntax (identifiers) and the signing key file, read and written
by keys. No other I/O.

May import: nothing from `pipeline`."""
