"""Preprocessing as data: the feature spec, the exact statistics fitted in SQL (stats.py:
`Stats`), the per-feature plans made from them (plan.py: `NumericPlan`, `CategoricalPlan`),
and the SQL (cleaning, statistics, feature tables, transforms) rendered from those plans
(sql.py).

May import: `pipeline.core`, `pipeline.config`, `pipeline.render`."""
