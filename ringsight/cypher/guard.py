"""Refuse Cypher that reaches outside the graph, or that a store cannot stop at its time limit.

Read-only mode is enforced by the database, but a read can still touch the
outside world: ``LOAD CSV FROM 'file:///…'`` or ``'https://…'`` reads the
server's files or fetches URLs on both stores, and procedures such as
``apoc.load.json``, ``apoc.export.*`` or ``dbms.*`` reach the file system, the
network or the server's administration. And FalkorDB runs
``allShortestPaths`` without looking at the query's time limit (measured: a
1 s limit, still running after 60 s), so such a query holds a CPU until the
server is stopped.

The check works on the query text as the parser sees it: comments and string
literals are removed, backtick-quoted names unquoted, case and whitespace
folded (a space inside a quoted name becomes ``_``) — so ``LoAd /*x*/ CsV`` and ``CALL `apoc`.`load`.json`` are caught
like their plain spellings, and a string that merely contains "LOAD CSV" is
not. ``CALL`` of a procedure is allowed only for the read-only schema
procedures below; ``CALL { … }`` sub-queries are not procedures and pass.
"""

from __future__ import annotations

import re

from ringsight.errors import QueryError

#: Procedures an analyst may CALL: they list the schema and touch nothing else.
READ_ONLY_PROCEDURES = frozenset(
    {
        "db.labels",
        "db.relationshiptypes",
        "db.propertykeys",
        "db.indexes",
        "db.constraints",
        "db.schema.visualization",
        "db.schema.nodetypeproperties",
        "db.schema.reltypeproperties",
    }
)
#: Name prefixes refused anywhere (as procedures or functions): files, network, administration, dynamic Cypher.
_REFUSED_PREFIXES = (
    "apoc.load.",
    "apoc.import.",
    "apoc.export.",
    "apoc.cypher.",
    "apoc.periodic.",
    "apoc.systemdb.",
    "apoc.trigger.",
    "apoc.custom.",
    "apoc.log.",
    "apoc.util.sleep",
    "dbms.",
)
_NAME = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+")
_CALL = re.compile(r"(?<![.\w])(?<!\bas )call\s+([a-z_][a-z0-9_.]*)")
# Words that may follow a variable named ``call`` (``RETURN call LIMIT 1``): not a procedure name.
_CLAUSE_WORDS = frozenset(
    {
        "as", "limit", "skip", "order", "return", "with", "union", "where", "yield",
        "and", "or", "xor", "is", "in", "contains", "starts", "ends",
    }
)  # fmt: skip
_LOAD_CSV = re.compile(r"\bload\s+csv\b")
_SPELLING = {"allshortestpaths": "allShortestPaths", "shortestpath": "shortestPath"}
_SHORTEST = re.compile(r"\b(allshortestpaths|shortestpath)\s*\(")


class QueryRefused(QueryError):
    """A query was refused before reaching the store, for what it would do or could not be stopped from doing."""


def normalise(text: str) -> str:
    """The text without comments and string contents, backticks removed, lower case, dots without spaces."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = _skip_to(text, "\n", i)
            out.append(" ")
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        elif c in "'\"":
            i = _skip_string(text, i)
            out.append("''")
        elif c == "`":
            end = i + 1
            while end < n and not (text[end] == "`" and not text.startswith("``", end)):
                end += 2 if text.startswith("``", end) else 1
            out.append(re.sub(r"\s", "_", text[i + 1 : end].replace("``", "`")))
            i = end + 1
        else:
            out.append(c)
            i += 1
    folded = re.sub(r"\s+", " ", "".join(out).lower())
    return re.sub(r"\s*\.\s*(?=[a-z_])", ".", folded)


def _skip_to(text: str, marker: str, start: int) -> int:
    end = text.find(marker, start)
    return len(text) if end < 0 else end


def _skip_string(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return i


def check(text: str, *, backend: str) -> None:
    """Raise :class:`QueryRefused` when ``text`` would reach files, the network or the server, or cannot be stopped."""
    plain = normalise(text)
    if _LOAD_CSV.search(plain):
        raise QueryRefused(
            "LOAD CSV is refused here: it reads files or web addresses from the database server.",
            "Load claims with `ringsight load`; the console only reads the graph.",
        )
    for name in _NAME.findall(plain):
        if name.startswith(_REFUSED_PREFIXES):
            raise _procedure_refused(name)
    for match in _CALL.finditer(plain):
        name = match.group(1).rstrip(".")
        if name not in READ_ONLY_PROCEDURES and name not in _CLAUSE_WORDS:
            raise _procedure_refused(name)
    _check_shortest_paths(plain, backend)
    if backend == "falkordb":
        _check_bound_walks(plain)


def _procedure_refused(name: str) -> QueryRefused:
    allowed = ", ".join(sorted(READ_ONLY_PROCEDURES))
    return QueryRefused(
        f"The procedure '{name}' is refused here: the console only runs procedures that read the schema, "
        "never ones that reach files, the network or the server's administration.",
        f"Procedures allowed: {allowed}. Write the question as a MATCH … RETURN query.",
    )


def _check_shortest_paths(plain: str, backend: str) -> None:
    for match in _SHORTEST.finditer(plain):
        if match.group(1) == "allshortestpaths" and backend == "falkordb":
            raise QueryRefused(
                "allShortestPaths is refused on the FalkorDB store: FalkorDB does not stop it at the time limit, "
                "so one such query can hold the server for hours.",
                "Use the library query shortest_paths, or MATCH p = (a)-[*1..6]-(b) RETURN p LIMIT 20 "
                "(a bounded pattern, which the time limit stops).",
            )
        if not _has_upper_bound(_call_body(plain, match.end())):
            raise QueryRefused(
                f"{_SPELLING[match.group(1)]} without an upper bound on its length is refused: on a large graph it can "
                "search without end.",
                "Give the relationship pattern a maximum length, e.g. [*..6].",
            )


_WALK = re.compile(r"\(\s*([a-z_]\w*)?[^()]*\)\s*<?-\s*\[([^\]]*\*[^\]]*)\]\s*->?\s*\(\s*([a-z_]\w*)?")


def _check_bound_walks(plain: str) -> None:
    """Refuse a variable-length walk between two nodes both bound before it (FalkorDB cannot stop it).

    FalkorDB checks its time limit between rows; a walk towards a node it
    already holds yields no row until it arrives, so one with few or no
    paths runs on (measured: a 1 s limit, still running after 60 s). Walking
    to a free end and comparing after (``…-(end) WITH … WHERE end = b``)
    yields rows and is stopped.
    """
    searches = [(m.end(), m.end() + len(_call_body(plain, m.end()))) for m in _SHORTEST.finditer(plain)]
    for match in _WALK.finditer(plain):
        if any(start <= match.start() <= end for start, end in searches):
            continue  # a shortest-path search, checked above
        ends = [name for name in (match.group(1), match.group(3)) if name]
        before = plain[: match.start()]
        if len(ends) == 2 and all(re.search(rf"\b{re.escape(n)}\b", before) for n in ends):
            a, b = ends
            raise QueryRefused(
                f"A variable-length walk between {a} and {b}, both already found, is refused on the FalkorDB "
                "store: it is not stopped at the time limit when few paths exist.",
                f"Walk to a free end and compare after: MATCH p = ({a})-[*1..6]-(x) WITH p, x, {b} WHERE x = {b} …",
            )


def _call_body(plain: str, start: int) -> str:
    """The text inside the parentheses that open just before ``start``."""
    depth, i = 1, start
    while i < len(plain) and depth:
        depth += {"(": 1, ")": -1}.get(plain[i], 0)
        i += 1
    return plain[start : i - 1]


def _has_upper_bound(body: str) -> bool:
    """True when every ``*`` length in the pattern has a maximum (``*..6``, ``*2..6``, ``*3``)."""
    for star in re.finditer(r"\*\s*(\d*)\s*(\.\.)?\s*(\d*)", body):
        low, dots, high = star.groups()
        if dots and not high:
            return False
        if not dots and not low:
            return False
    return True
