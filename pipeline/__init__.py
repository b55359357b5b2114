"""A SQL-first, warehouse-backed ML pipeline.

SQL (Jinja templates in `sql/`) does all the data work in the warehouse; Python fits a
scikit-learn model and scores rows with it in parallel. Heavy libraries are imported by the
stages that need them, so `pipeline --help` starts fast.
"""

__version__ = "0.1.0"
