"""`pipeline init`: a new project directory that runs end to end once it names its data.

With `--from-table`, the features are proposed from a SQL profile of the table: numbers become
numeric features (median-imputed), text with few distinct values becomes one-hot categorical
features (rare values folded), and text that is nearly unique per row (names, ticket numbers)
is left out, in a comment, since a model cannot generalise from it.

Modules: `profile` (what init reads of a table), `names` (plain names for raw columns),
`ids` (an id column the table has), `keyed` (the view that adds a row key), `leakage`,
`propose` (the features), `text` (the config and README written), `project` (writing the
directory), `command` (the options of `pipeline init`)."""

from pipeline.tools.init.command import create_project, warehouse_section
from pipeline.tools.init.keyed import Keyed, make_keyed
from pipeline.tools.init.project import init_project, output_schema_for
from pipeline.tools.init.propose import Proposal, propose
from pipeline.tools.init.text import config_text

__all__ = [
    "Keyed",
    "Proposal",
    "config_text",
    "create_project",
    "init_project",
    "make_keyed",
    "output_schema_for",
    "propose",
    "warehouse_section",
]
