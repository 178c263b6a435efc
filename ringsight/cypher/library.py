"""The library of named queries: one ``.cypher`` file per query, with a YAML header.

A file starts with a block of ``//`` comment lines holding YAML (the header)
and continues with the Cypher text::

    // name: cards_shared_by_persons
    // title_zh: 一卡多人使用
    // title_en: Cards used by more than one person
    // description: Cards swiped for claims of two or more insured persons.
    // tags: [impersonation, card_collecting]
    // mode: read
    // params:
    //   min_persons: {type: int, default: 2, example: 3, description: at least this many persons}
    MATCH (c:Card) …

Queries come from the package (``ringsight/cypher/queries``) and from a
bureau's own directory (``RINGSIGHT_QUERIES_DIR``). A name found twice is an
error — a bureau's file must never silently replace a shipped query that
others rely on (or the other way round after an upgrade).

The loader also checks that every ``$parameter`` in the text is declared and
every declared parameter is used, so a typo in a header fails at load time,
not as a puzzling empty result.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ringsight.config import Settings
from ringsight.cypher.params import RESERVED, TYPES, ParamSpec
from ringsight.errors import RingSightError

PACKAGE = "package"
_HEADER_KEYS = {"name", "title_zh", "title_en", "description", "tags", "params", "mode", "sample", "deepen"}
#: The longest path a ``deepen`` query may search (the parameter's declared max may not exceed it).
MAX_DEEPEN = 10
_PARAM_KEYS = {"type", "default", "example", "description", "choices", "min", "max"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A $parameter reference outside string literals and comments (checked after stripping those).
_PARAM_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


class LibraryError(RingSightError):
    """A query file is malformed, or two files claim the same name."""

    exit_code = 2


@dataclass(frozen=True)
class SampleSpec:
    """A query whose rows are a population to sample from, not the answer itself.

    The runner keeps, within each ``stratum`` value, the ``ceil(fraction · n)``
    rows with the smallest SHA-256 of ``"<seed>:<key>"`` — reproducible by
    anyone with the seed, on any store (see ``runner.sample_rows``).
    """

    key: str
    stratum: str | None
    fraction: str
    seed: str


@dataclass(frozen=True)
class NamedQuery:
    """One query of the library, as declared in its file."""

    name: str
    title_zh: str
    title_en: str
    description: str
    tags: list[str]
    params: list[ParamSpec]
    mode: str
    text: str
    source: str = PACKAGE
    path: Path | None = None
    sample: SampleSpec | None = field(default=None)
    deepen: str | None = None

    @property
    def is_write(self) -> bool:
        """True for queries that change the graph (need ``allow_write``)."""
        return self.mode == "write"

    def bounded_text(self, hops: int) -> str:
        """The text with ``hops`` written in as the ``deepen`` parameter's path bound (the text itself without one)."""
        return self.text if self.deepen is None else hop_bound(self.deepen).sub(f"..{int(hops)}", self.text)

    def param(self, name: str) -> ParamSpec:
        """The declared parameter called ``name``."""
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)


class QueryLibrary:
    """The named queries available to this deployment, by name."""

    def __init__(self, queries: dict[str, NamedQuery]) -> None:
        self._queries = dict(sorted(queries.items()))

    @classmethod
    def load(cls, settings: Settings) -> QueryLibrary:
        """The package's queries plus those in ``settings.queries_dir`` (RINGSIGHT_QUERIES_DIR)."""
        user_dir = settings.queries_dir
        return cls.from_dirs(package_dir(), Path(user_dir).expanduser() if user_dir else None)

    @classmethod
    def from_dirs(cls, package: Path | None, user: Path | None = None) -> QueryLibrary:
        """Load the ``.cypher`` files of the package directory and an optional user directory."""
        queries: dict[str, NamedQuery] = {}
        sources = [(package, PACKAGE)] if package is not None else []
        if user is not None:
            if not user.is_dir():
                raise LibraryError(
                    f"The queries directory {user} does not exist or is not a directory.",
                    "Create it, or fix RINGSIGHT_QUERIES_DIR.",
                )
            sources.append((user, str(user)))
        for directory, source in sources:
            for path in sorted(directory.glob("*.cypher")):
                query = parse_file(path, source)
                if query.name in queries:
                    raise _clash(query, queries[query.name])
                queries[query.name] = query
        return cls(queries)

    def names(self) -> list[str]:
        """Query names, sorted."""
        return list(self._queries)

    def get(self, name: str) -> NamedQuery:
        """The query called ``name``; a LibraryError listing close names when there is none."""
        try:
            return self._queries[name]
        except KeyError:
            close = [n for n in self._queries if name.lower() in n or n in name.lower()][:5]
            hint = f"Did you mean: {', '.join(close)}?" if close else "Run `ringsight query list` to see them."
            raise LibraryError(f"There is no query named '{name}' in the library.", hint) from None

    def __iter__(self) -> Iterator[NamedQuery]:
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)

    def __contains__(self, name: object) -> bool:
        return name in self._queries


def package_dir() -> Path:
    """Where the shipped ``.cypher`` files live."""
    return Path(str(resources.files("ringsight.cypher") / "queries"))


def parse_file(path: Path, source: str = PACKAGE) -> NamedQuery:
    """Read one ``.cypher`` file: its YAML header and its Cypher text."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LibraryError(f"Cannot read the query file {path}: {exc}.", "Save it as UTF-8 text.") from exc
    return parse_text(content, path=path, source=source)


def parse_text(content: str, *, path: Path | None = None, source: str = PACKAGE) -> NamedQuery:
    """Parse the text of a query file (see the module docstring for the format)."""
    where = str(path) if path else "<text>"
    header_lines, body_lines, in_header = [], [], True
    for line in content.lstrip("\ufeff").splitlines():
        if in_header and line.lstrip().startswith("//"):
            header_lines.append(re.sub(r"^\s*// ?", "", line))
        elif in_header and not line.strip():
            header_lines.append("")
        else:
            in_header = False
            body_lines.append(line)
    try:
        header = yaml.safe_load("\n".join(header_lines)) or {}
    except yaml.YAMLError as exc:
        raise LibraryError(f"The header of {where} is not valid YAML: {exc}.", _FORMAT_HINT) from exc
    if not isinstance(header, dict):
        raise LibraryError(f"The header of {where} is not a set of 'key: value' lines.", _FORMAT_HINT)
    text = "\n".join(body_lines).strip()
    return _build(header, text, path, source, where)


_FORMAT_HINT = (
    "Start the file with '// name: …', '// title_zh: …', '// title_en: …', '// mode: read' lines "
    "(YAML after '//'), then the Cypher text; see ringsight/cypher/queries/ for examples."
)


def _build(header: dict[str, Any], text: str, path: Path | None, source: str, where: str) -> NamedQuery:
    unknown = sorted(set(header) - _HEADER_KEYS)
    if unknown:
        raise LibraryError(f"The header of {where} has unknown keys: {', '.join(unknown)}.", _FORMAT_HINT)
    name = str(header.get("name") or (path.stem if path else ""))
    if not _NAME.match(name):
        raise LibraryError(
            f"The query name '{name}' in {where} is not valid.",
            "Use lower-case letters, digits and underscores, starting with a letter.",
        )
    mode = str(header.get("mode", "read"))
    if mode not in ("read", "write"):
        raise LibraryError(f"Query '{name}' in {where} has mode '{mode}'.", "Use 'mode: read' or 'mode: write'.")
    if not text:
        raise LibraryError(f"Query '{name}' in {where} has no Cypher text after its header.", _FORMAT_HINT)
    for key in ("title_zh", "title_en"):
        if not header.get(key):
            raise LibraryError(f"Query '{name}' in {where} has no {key}.", "Give it a Chinese and an English title.")
    params = _params(header.get("params") or {}, name, where)
    sample = _sample(header.get("sample"), params, name, where)
    deepen = _deepen(header.get("deepen"), params, text, name, where)
    if mode == "write":
        _check_tag_writes(text, params, name, where)
    _check_references(text, params, {sample.fraction, sample.seed} if sample else set(), name, where)
    tags = header.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    return NamedQuery(
        name=name,
        title_zh=str(header["title_zh"]),
        title_en=str(header["title_en"]),
        description=str(header.get("description") or "").strip(),
        tags=[str(t) for t in tags],
        params=params,
        mode=mode,
        text=text,
        source=source,
        path=path,
        sample=sample,
        deepen=deepen,
    )


def hop_bound(name: str) -> re.Pattern[str]:
    """Where a ``deepen`` parameter stands as the upper bound of a variable-length pattern: ``*1..$max_hops``."""
    return re.compile(r"\.\.\s*\$" + re.escape(name) + r"\b")


def _deepen(raw: Any, params: list[ParamSpec], text: str, query: str, where: str) -> str | None:
    """The ``deepen`` header: an int parameter, bounded by ``max``, used as ``*1..$name`` in the text.

    Cypher allows no parameter as a path-length bound, so the runner writes
    1, 2, … up to the parameter's value into the text and runs it again
    until rows come back: the first rows are the shortest paths, and each
    run is a bounded search that the store's time limit stops (FalkorDB does
    not stop ``allShortestPaths``, ``algo.SPpaths`` or a walk between two
    fixed ends at its time limit, and its ``shortestPath`` is directed only).
    """
    if raw is None:
        return None
    spec = next((p for p in params if p.name == raw), None)
    if spec is None or spec.type != "int" or spec.max is None or not 1 <= spec.max <= MAX_DEEPEN:
        raise LibraryError(
            f"'deepen' of query '{query}' in {where} must name an int parameter with a max of 1 to {MAX_DEEPEN}.",
            "Example: params: {max_hops: {type: int, default: 6, min: 1, max: 8}} and deepen: max_hops.",
        )
    if not hop_bound(spec.name).search(text):
        raise LibraryError(
            f"Query '{query}' in {where} deepens '{spec.name}' but never uses it as a path bound.",
            f"Write the pattern as (a)-[*1..${spec.name}]-(b).",
        )
    return spec.name


_TAG_VALUE = re.compile(r"(?:\.tag\s*=|[{,]\s*tag\s*:)\s*([^,}\s)]+)")
_MAP_ASSIGN = re.compile(r"(?<![.\w])[a-z_][a-z0-9_]*\s*\+?=\s*(?:\$|\{)")


def _check_tag_writes(text: str, params: list[ParamSpec], query: str, where: str) -> None:
    """A write query that touches annotations sets a tag only from a ``type: tag`` parameter.

    The runner checks such a parameter against the tag vocabulary, so a
    library write query cannot tag a facility with a word outside it (a
    literal, another parameter, or a whole map of properties would).
    """
    from ringsight.cypher.guard import normalise

    plain = normalise(text)
    if "annotation" not in plain:
        return
    tags = {p.name.lower() for p in params if p.type == "tag"}
    for value in _TAG_VALUE.findall(plain):
        if not (value.startswith("$") and value[1:] in tags):
            raise LibraryError(
                f"Query '{query}' in {where} sets an annotation's tag to {value}, not to a 'type: tag' parameter.",
                "Declare the tag as e.g. tag: {type: tag} and write a.tag = $tag: the tag must come from "
                "the vocabulary (cases.tags).",
            )
    if _MAP_ASSIGN.search(plain):
        raise LibraryError(
            f"Query '{query}' in {where} writes annotation properties as a whole map.",
            "Set each property on its own (a.tag = $tag, a.text = $note), so the tag can be checked.",
        )


def _params(raw: Any, query: str, where: str) -> list[ParamSpec]:
    if not isinstance(raw, dict):
        raise LibraryError(f"'params' of query '{query}' in {where} must map names to specs.", _FORMAT_HINT)
    specs = []
    for pname, body in raw.items():
        body = {"type": body} if isinstance(body, str) else (body or {})
        bad = sorted(set(body) - _PARAM_KEYS)
        if bad:
            raise LibraryError(f"Parameter '{pname}' of query '{query}' has unknown keys: {', '.join(bad)}.")
        ptype = str(body.get("type", "string"))
        if ptype not in TYPES:
            raise LibraryError(
                f"Parameter '{pname}' of query '{query}' has unknown type '{ptype}'.",
                f"Use one of: {', '.join(TYPES)}.",
            )
        if pname in RESERVED:
            raise LibraryError(
                f"Parameter '{pname}' of query '{query}' uses a reserved name.",
                f"{', '.join(RESERVED)} are filled in by RingSight; use them in the text without declaring them.",
            )
        choices = body.get("choices")
        specs.append(
            ParamSpec(
                name=str(pname),
                type=ptype,
                default=body.get("default"),
                example=body.get("example"),
                description=str(body.get("description") or ""),
                required="default" not in body,
                choices=tuple(choices) if choices is not None else None,
                min=body.get("min"),
                max=body.get("max"),
            )
        )
    return specs


def referenced_params(text: str) -> set[str]:
    """The ``$names`` a Cypher text refers to (outside string literals and comments)."""
    return set(_PARAM_REF.findall(_COMMENTS.sub(" ", _STRINGS.sub("''", text))))


def _check_references(text: str, params: list[ParamSpec], runner_used: set[str], query: str, where: str) -> None:
    used = referenced_params(text) | runner_used
    declared = {p.name for p in params}
    undeclared = sorted(used - declared - set(RESERVED))
    if undeclared:
        raise LibraryError(
            f"Query '{query}' in {where} uses undeclared parameters: {', '.join(undeclared)}.",
            "Declare each under 'params:' in the header with its type.",
        )
    unused = sorted(declared - used)
    if unused:
        raise LibraryError(
            f"Query '{query}' in {where} declares parameters it never uses: {', '.join(unused)}.",
            "Remove them from the header or use them in the text.",
        )


def _sample(raw: Any, params: list[ParamSpec], query: str, where: str) -> SampleSpec | None:
    if raw is None:
        return None
    names = {p.name for p in params}
    if not isinstance(raw, dict) or not {"key", "fraction", "seed"} <= set(raw):
        raise LibraryError(
            f"'sample' of query '{query}' in {where} needs key, fraction and seed (and optionally stratum).",
            "Example: sample: {key: code, stratum: stratum, fraction: fraction, seed: seed}",
        )
    for role in ("fraction", "seed"):
        if raw[role] not in names:
            raise LibraryError(f"'sample.{role}' of query '{query}' must name one of its parameters.")
    stratum = raw.get("stratum")
    return SampleSpec(str(raw["key"]), str(stratum) if stratum else None, str(raw["fraction"]), str(raw["seed"]))


def _clash(new: NamedQuery, old: NamedQuery) -> LibraryError:
    return LibraryError(
        f"Two queries are named '{new.name}': {old.path} ({old.source}) and {new.path} ({new.source}).",
        "Rename the one in your queries directory (RINGSIGHT_QUERIES_DIR): a query there may not replace "
        "another, so that a shipped query never changes meaning without notice.",
    )
