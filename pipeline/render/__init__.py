"""SQL rendering: the `Dialect` value (quoting, literals, types, limits), the Jinja templates of
`sql/` with their dispatched macros, and the compiler that turns a fitted estimator into SQL.
Renders text only; never holds a connection.

May import: `pipeline.core`."""
