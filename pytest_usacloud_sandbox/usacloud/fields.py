"""A subcommand's parameter struct as usacloud validates it: each field's value from the flags, the
``--parameters`` JSON and usacloud's own defaults (pkg/core/command.go, parameter_loader.go).
"""

from __future__ import annotations

from dataclasses import dataclass

from .commands import Flag, Subcommand
from .params import FloatLiteral, JSONObject, Parameters
from .pflag import INT64, is_id_list
from .validate import Value

#: Fields usacloud's JSON decoding never sets (``json:"-"`` in its source): the common input,
#: confirmation and output flags, rest's output options, and the flags it turns into JSON itself.
JSON_EXCLUDED = frozenset(
    {"Parameters", "GenerateSkeleton", "Example", "AssumeYes", "OutputType", "Quiet", "Format", "Query"}
    | {"QueryDriver", "AuthPreference", "DatabaseParametersData"}
)
#: Structs of `server create` that are ``json:"-"`` as a whole (its --disk-* and --network-interface-* flags).
JSON_EXCLUDED_STRUCTS = ("Disk.", "NetworkInterface.")
#: Tags on struct-valued fields, which the command table (a row per flag) does not carry: (resource,
#: subcommand) -> {struct: tag}. "omitempty" skips the struct's fields while all of them are zero;
#: "omitempty,dive" makes the validator panic once any of them is set ("can't dive on a non slice or map").
STRUCT_TAGS = {
    ("auto-scale", "create"): {"CPUThresholdScaling": "omitempty,dive", "RouterThresholdScaling": "omitempty,dive"},
    ("auto-scale", "update"): {"CPUThresholdScaling": "omitempty,dive", "RouterThresholdScaling": "omitempty,dive"},
    ("mobile-gateway", "create"): {"PrivateInterface": "omitempty", "DNS": "omitempty"},
    ("mobile-gateway", "update"): {"PrivateInterface": "omitempty"},
    ("server", "create"): {"NetworkInterface": "omitempty", "Disk": "omitempty"},
}
#: Stands for a value usacloud sets in code: not known here, present, and valid under its own rules.
DEFAULT = object()


def kind_of(flag: Flag) -> str:
    """The validator's view of the field's Go kind: "int", "string", "bool" or "list"."""
    base = (flag.go_type or "").lstrip("*")
    if base.startswith("[]") or flag.value == "strings":
        return "list"
    if flag.value in ("int", "id"):
        return "int"
    return "bool" if flag.value == "bool" else "string"


def is_pointer(flag: Flag) -> bool:
    return (flag.go_type or "").startswith("*")


def json_settable(field: str) -> bool:
    return field not in JSON_EXCLUDED and not field.startswith(JSON_EXCLUDED_STRUCTS)


@dataclass(frozen=True)
class Field:
    flag: Flag
    value: Value  # its value; ``value.value is DEFAULT``: usacloud's default
    source: str  # "flag" | "json" | "default" | "zero"

    @property
    def default(self) -> bool:
        return self.value.value is DEFAULT


class Fields:
    """The fields of one command's parameter struct, by field path (``"HealthCheck.DelayLoop"``).

    ``given``: each flag's value after pflag (canonical name -> value, only flags the words set);
    ``params``: the decoded ``--parameters`` (None without it). :attr:`json_errors` lists what Go's
    decoder would refuse (usacloud prints it and exits 0)."""

    def __init__(self, sub: Subcommand, given: dict[str, object], params: Parameters | None) -> None:
        self.sub = sub
        self.values = given
        self.params = params if params is not None and params.data is not None else None
        self.flags = {flag.field: flag for flag in sub.flags if flag.field}
        self.by_field: dict[str, Field] = {}  # worked out so far (by :meth:`get`)
        self.json_errors: list[str] = []
        if self.params is not None:  # Go decodes every key: its complaints are known once all are read
            for field in self.flags:
                self.get(field)

    def _field(self, flag: Flag) -> Field:
        """A flag given sets its field (a pointer field becomes non-nil, even to 0 or ""); otherwise the
        field keeps usacloud's default (unknown here; it passes its own rules) or its zero value. With
        ``--parameters`` usacloud rebuilds the struct from its defaults, decodes the JSON into it and
        parses the flags again: a plain field's flag overrides the JSON, a string-list flag appends to
        its list, and a pointer field's flag is lost (pflag writes to the value bound before the rebuild)."""
        params = self.params
        kind, pointer = kind_of(flag), is_pointer(flag)
        zero = None if pointer or kind == "list" else {"int": 0, "bool": False}.get(kind, "")
        value, source = (DEFAULT, "default") if self.sub.defaulted(flag.field) else (zero, "zero")
        if params is not None and json_settable(flag.field):
            found, raw = params.lookup(flag.field)
            if found and not (raw is None and not pointer and kind != "list"):  # null leaves a plain field
                converted, error = from_json(flag, raw)
                if error is not None:
                    self.json_errors.append(error)
                else:
                    value, source = converted, "json"
        if flag.name in self.values and not (params is not None and pointer):
            flagged = self.values[flag.name]
            if params is not None and flag.value == "strings" and isinstance(value, list):
                flagged = [*value, *flagged]  # pflag's slice was changed already: it appends
            value, source = flagged, "flag"
        return Field(flag, Value(kind, value, pointer), source)

    def get(self, field: str) -> Field | None:
        found = self.by_field.get(field)
        if found is None and field in self.flags:
            found = self.by_field[field] = self._field(self.flags[field])
        return found

    def set(self, field: str, value: Value) -> None:
        """Give ``field`` a value of the command's own making (config takes a name from its argument)."""
        self.by_field[field] = Field(self.flags[field], value, "flag")

    def flagged(self) -> list[Field]:
        """The fields the words set with a flag."""
        return [f for f in map(self.get, (fl.field for fl in self.flags.values() if fl.name in self.values)) if f]

    def sibling(self, of_field: str, name: str) -> Value | None:
        """The field ``name`` in the struct that holds ``of_field`` (None: no such field)."""
        parent = of_field.rpartition(".")[0]
        found = self.get(f"{parent}.{name}" if parent else name)
        return None if found is None else found.value

    def given(self, field: str) -> bool:
        found = self.get(field)
        return found is not None and found.source in ("flag", "json")

    def struct_set(self, prefix: str) -> bool:
        """Whether the struct ``prefix`` ("Disk") is not Go's zero value: some field of it is non-zero,
        a set pointer or a non-nil list (reflect's IsZero, and usacloud's util.IsEmpty)."""
        for field, flag in self.flags.items():
            if not field.startswith(prefix + "."):
                continue
            could = flag.name in self.values or self.params is not None or self.sub.defaulted(field)
            if could and not is_zero(self.get(field).value):
                return True
        return False


def is_zero(value: Value) -> bool:
    if value.value is DEFAULT:
        return False
    if value.pointer or value.kind == "list":
        return value.value is None
    return value.value in (0, "", False)


def _json_type(raw: object) -> str:
    if isinstance(raw, bool):
        return "bool"
    if isinstance(raw, (int, FloatLiteral)):
        return f"number {raw}"
    if isinstance(raw, str):
        return "string"
    return "object" if isinstance(raw, JSONObject) else "array" if isinstance(raw, list) else "null"


def _json_id(raw: object) -> int | None:
    """types.ID's UnmarshalJSON: a JSON number or a string holding one, read as a base-10 int64."""
    text = raw if type(raw) is str or isinstance(raw, FloatLiteral) else str(raw) if type(raw) is int else None
    if text is None:
        return None
    try:
        value = int(text, 10)
    except ValueError:
        return None
    return value if -INT64 <= value < INT64 else None


def from_json(flag: Flag, raw: object) -> tuple[object, str | None]:
    """The Go value ``raw`` (decoded JSON) becomes in ``flag``'s field, or Go's decoding error."""
    kind = kind_of(flag)
    go_type = (flag.go_type or "").lstrip("*")
    if raw is None:
        return None, None  # a pointer or a list set to nil
    ok, value = False, None
    if kind == "list":
        if isinstance(raw, list) and not isinstance(raw, JSONObject):
            items = [_element(flag, item) for item in raw]
            ok, value = all(i is not None for i in items), items
    elif flag.value == "id":
        value = _json_id(raw)
        ok = value is not None
    elif kind == "int":
        ok = type(raw) is int and -INT64 <= raw < INT64
        value = raw
    elif kind == "bool":
        ok, value = isinstance(raw, bool), raw
    else:
        ok, value = type(raw) is str, raw
    if ok:
        return value, None
    return None, f"json: cannot unmarshal {_json_type(raw)} into Go struct field {flag.field} of type {go_type}"


def _element(flag: Flag, item: object) -> object | None:
    if item is None:
        return 0 if is_id_list(flag) else ""
    if is_id_list(flag):
        return _json_id(item)
    return item if type(item) is str else None
