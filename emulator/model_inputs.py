"""Custom-model scoring: input rows, checks against the model signature, and predictions.

A request carries exactly one of `dataframe_split`, `dataframe_records`, `instances` or `inputs`
(emulator.query_formats checks that). Each becomes a list of rows: a dict of column values, or a
bare value for unnamed tensors. When the served model version has a signature, every named row
must contain the required columns with values of the declared type.

The prediction for a row is the sum of its numeric values, rounded to 6 places. The signature's
output type changes it to an int (`long`, `integer`), a bool (`boolean`: sum > 0) or a string.
"""

import json
from dataclasses import dataclass
from typing import Any

from emulator.config_rules import parse_decimal
from emulator.query_formats import MODEL_INPUT_KEYS, invalid
from emulator.state import ModelVersion, Workspace

NUMBER_TYPES = ("double", "float")
INTEGER_TYPES = ("long", "integer")


@dataclass
class Signature:
    """The column part of an MLflow model signature."""

    model: str
    input_columns: list[dict[str, Any]]
    output_type: str | None

    @property
    def column_names(self) -> list[str]:
        return [str(column["name"]) for column in self.input_columns]

    @property
    def required_names(self) -> list[str]:
        return [str(c["name"]) for c in self.input_columns if c.get("required", True) and not c.get("optional", False)]


def model_version_of(workspace: Workspace, entity: dict[str, Any]) -> ModelVersion | None:
    """Return the registered model version a served entity serves, if the registry has it."""
    model = workspace.models.get(str(entity.get("entity_name", "")))
    number = parse_decimal(str(entity.get("entity_version", "")))
    if model is None or number is None:
        return None
    return model.versions.get(number)


def signature_of(workspace: Workspace, entity: dict[str, Any]) -> Signature | None:
    """Return the signature of the registered model version an entity serves, if it has one."""
    version = model_version_of(workspace, entity)
    if version is None or not version.signature:
        return None
    inputs = _decoded(version.signature.get("inputs")) or []
    outputs = _decoded(version.signature.get("outputs")) or []
    named = [column for column in inputs if isinstance(column, dict) and "name" in column]
    output_type = outputs[0].get("type") if outputs and isinstance(outputs[0], dict) else None
    return Signature(f"{entity['entity_name']} version {version.version}", named, output_type)


def _decoded(value: Any) -> Any:
    """MLflow stores signature parts as JSON strings. Scenario files may give them as lists."""
    return json.loads(value) if isinstance(value, str) else value


def model_rows(body: dict[str, Any], signature: Signature | None) -> list[Any]:
    """Turn the one input key of a custom-model request into rows."""
    params = body.get("params")
    if params is not None and not isinstance(params, dict):
        raise invalid(f"Invalid input. 'params' must be an object of inference parameters, got {params!r}.")
    key = next(k for k in MODEL_INPUT_KEYS if k in body)
    value = body[key]
    if key == "dataframe_split":
        rows = _split_rows(value, signature)
    elif key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise invalid(f"Invalid input. 'dataframe_records' must be a list of row objects, got {value!r}.")
        rows = list(value)
    elif key == "instances":
        if not isinstance(value, list):
            raise invalid(f"Invalid input. 'instances' must be a list, got {value!r}.")
        rows = list(value)
    else:
        rows = _tensor_rows(value)
    if not rows:
        raise invalid(f"Invalid input. '{key}' contains no rows.")
    return rows


def _split_rows(value: Any, signature: Signature | None) -> list[Any]:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise invalid(
            "Invalid input. 'dataframe_split' must be an object with 'columns' and 'data' "
            f"(a list of rows), got {value!r}."
        )
    columns = value.get("columns")
    if columns is None and signature is not None:
        columns = signature.column_names
    if columns is not None and (not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)):
        raise invalid(f"Invalid input. 'dataframe_split.columns' must be a list of column names, got {columns!r}.")
    index = value.get("index")
    if index is not None and (not isinstance(index, list) or len(index) != len(value["data"])):
        raise invalid("Invalid input. 'dataframe_split.index' must be a list with one entry per row of 'data'.")
    rows: list[Any] = []
    for i, raw in enumerate(value["data"]):
        cells = raw if isinstance(raw, list) else [raw]
        if columns is None:
            rows.append(cells)
            continue
        if len(cells) != len(columns):
            raise invalid(
                f"Invalid input. 'dataframe_split.data[{i}]' has {len(cells)} values but there are "
                f"{len(columns)} columns {columns}."
            )
        rows.append(dict(zip(columns, cells, strict=True)))
    return rows


def _tensor_rows(value: Any) -> list[Any]:
    """Rows of the columnar `inputs` format: a dict of equal-length lists, a dict of scalars, or a list."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        lengths = {len(v) for v in value.values() if isinstance(v, list)}
        all_lists = bool(value) and all(isinstance(v, list) for v in value.values())
        if all_lists and len(lengths) == 1:
            count = lengths.pop()
            return [{name: column[i] for name, column in value.items()} for i in range(count)]
        return [value]
    return [value]


def check_rows(rows: list[Any], signature: Signature) -> None:
    """Reject rows that lack required signature columns or hold values of the wrong type."""
    named_rows = [row for row in rows if isinstance(row, dict)]
    missing = sorted({name for row in named_rows for name in signature.required_names if name not in row})
    if missing:
        raise invalid(
            f"Model {signature.model} is missing required input column(s) {missing}. "
            f"Its signature expects {signature.column_names}."
        )
    for i, row in enumerate(named_rows):
        for column in signature.input_columns:
            value = row.get(column["name"])
            expected = str(column.get("type", ""))
            if value is not None and not _has_type(value, expected):
                raise invalid(
                    f"Incompatible input type for column '{column['name']}' in row {i}: the signature of "
                    f"model {signature.model} expects {expected}, got {value!r}."
                )


def _has_type(value: Any, expected: str) -> bool:
    if expected in NUMBER_TYPES:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected in INTEGER_TYPES:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    return True


def predict(rows: list[Any], output_type: str | None) -> list[Any]:
    return [_prediction(_numeric_sum(row), output_type) for row in rows]


def _numeric_sum(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return sum(_numeric_sum(v) for v in value.values())
    if isinstance(value, list):
        return sum(_numeric_sum(v) for v in value)
    return 0.0


def _prediction(total: float, output_type: str | None) -> Any:
    if output_type in INTEGER_TYPES:
        return int(total)
    if output_type == "boolean":
        return total > 0
    if output_type == "string":
        return f"{total:g}"
    return round(total, 6)
