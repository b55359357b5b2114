"""Preprocessing as data: the feature spec, the exact statistics fitted in SQL, the per-feature
plans made from them, and the SQL (cleaning, statistics, feature tables, transforms) rendered
from those plans.

May import: `pipeline.core`, `pipeline.config`, `pipeline.render`."""
