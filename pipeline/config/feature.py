"""[[features]]: one table per feature, its raw column, its type and how it is prepared."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, StrictInt, model_validator

from pipeline.config.sections import Section
from pipeline.config.values import Clip, ColumnName, Identifier, Scalar, as_value_error
from pipeline.core.identifiers import (
    check_column_name,
    check_identifier,
    is_identifier,
    plain_identifier,
)
from pipeline.core.vocabulary import Encoder, FeatureType, Imputer, Scaler


class FeatureConfig(Section):
    """A feature. `column` is its name in the pipeline's tables and the model: the TOML
    `name` when given, else the raw column's; `source` keeps the raw column's own name when
    the two differ (`column = "sample.yr"` with `name = "sample_yr"`): generated tables and
    BigQuery need plain names, raw tables may have any."""

    column: Identifier = Field(
        description="the raw table's column (any name; give `name` when it is not plain)"
    )
    type: FeatureType
    impute: Imputer = Field(
        default=Imputer.median, description="default: median for numeric, mode for categorical"
    )
    encode: Encoder | None = Field(default=None, description="categorical only; default onehot")
    scale: Scaler = Scaler.none
    fill_value: Scalar | None = Field(default=None, description="for impute = constant")
    missing_indicator: StrictBool = False
    min_count: StrictInt = Field(
        default=0,
        ge=0,
        description="categories seen fewer times in train fold into one rare bucket",
    )
    clip: Clip | None = Field(
        default=None, description='"train_range" or [low, high]; numeric only'
    )
    max_categories: StrictInt = Field(
        default=100, ge=1, description="categorical only: most categories kept"
    )
    name: Identifier | None = Field(
        default=None, description="the feature's plain name in generated tables"
    )
    source: ColumnName | None = Field(
        default=None, description="set from `column` when `name` is given; not written by hand"
    )

    def __init__(self, *args: Any, **data: Any) -> None:
        # positional like the dataclass it replaced: FeatureConfig("size", "numeric", "median")
        data.update(zip(type(self).model_fields, args, strict=False))
        super().__init__(**data)

    @model_validator(mode="before")
    @classmethod
    def _raw_and_plain_names(cls, data: Any) -> Any:
        """TOML `column` (raw, any name) and `name` (plain) -> `column` (plain) and `source`
        (raw); a model directory's saved spec comes back with `source` already set."""
        if (
            not isinstance(data, dict)
            or "source" in data
            or not isinstance(data.get("column"), str)
        ):
            return data
        raw, plain = data["column"], data.get("name")
        as_value_error(check_column_name)(raw)
        if plain is not None:
            check_name = as_value_error(lambda v, _: check_identifier(v, "name"))
            check_name(plain)  # named as the key the user wrote
        if plain is None:
            if not is_identifier(raw):
                suggestion = plain_identifier(raw, "feature", "f_")
                raise ValueError(
                    f"column {raw!r} is not a plain identifier; add "
                    f'name = "{suggestion}" to name the feature in the generated tables'
                )
            plain = raw
        return {**data, "column": plain, "source": raw if raw != plain else None}

    @model_validator(mode="before")
    @classmethod
    def _defaults_by_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") in tuple(FeatureType):
            categorical = data["type"] == FeatureType.categorical
            defaults: dict[str, str] = {"impute": Imputer.mode if categorical else Imputer.median}
            if categorical:
                defaults["encode"] = Encoder.onehot
            data = {**defaults, **data}
        return data

    @model_validator(mode="after")
    def _fits_the_type(self) -> FeatureConfig:
        numeric = self.type == FeatureType.numeric
        if not numeric and self.impute in (Imputer.median, Imputer.mean):
            raise ValueError(f'impute "{self.impute}" needs a numeric column')
        if self.impute == Imputer.constant and self.fill_value is None:
            raise ValueError('impute "constant" needs fill_value')
        for key in ("encode", "min_count", "max_categories"):
            if numeric and getattr(self, key) != type(self).model_fields[key].default:
                raise ValueError(f"{key} applies to categorical columns only")
        if not numeric and self.scale != Scaler.none:
            raise ValueError("scale applies to numeric columns only")
        if not numeric and self.clip is not None:
            raise ValueError("clip applies to numeric columns only")
        return self
