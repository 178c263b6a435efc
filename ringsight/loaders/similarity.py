"""How much a header of a foreign export looks like a canonical column.

Plain string similarity suggests nonsense (``claim_time`` → 'ClaimID',
``facility_id`` → 'ClmDiagnosisCode_1'), so headers are split into words
(``ClaimStartDt`` → claim, start, dt), the words are mapped to concepts
(dt → time, provider → facility, bene → patient), and a header scores by
the share of the column's concepts it carries; the generic ``id`` concept
weighs half. Chinese and national-platform aliases also count by plain
similarity. Below :data:`THRESHOLD` nothing is suggested.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

THRESHOLD = 0.65

_CONCEPTS: dict[str, tuple[str, ...]] = {
    "claim": ("claim", "clm", "setl", "settlement", "bill", "invoice"),
    "visit": ("visit", "encounter", "setting", "med", "inpatient", "outpatient"),
    "item": ("item", "line", "detail", "service", "procedure", "drug", "product", "hcpcs"),
    "time": ("time", "dt", "date", "datetime", "ts", "timestamp", "day", "when", "dob"),
    "id": ("id", "no", "num", "number", "code", "cd", "key", "nbr", "identifier"),
    "patient": ("patient", "bene", "beneficiary", "member", "mbr", "person", "psn", "insured", "subscriber", "dob"),
    "card": ("card", "voucher", "mdtrt", "cert"),
    "facility": ("facility", "provider", "prvdr", "hospital", "pharmacy", "fixmedins", "institution", "org"),
    "doctor": ("doctor", "physician", "dr", "prescriber", "attending", "npi", "atddr"),
    "amount": ("amount", "amt", "sum", "sumamt", "total", "cost", "charge", "fee", "reimbursed", "payment", "paid"),
    "fund": ("fund", "insc", "insurer", "plan", "reimbursed", "covered"),
    "self": ("self", "oop", "deductible", "copay", "coinsurance", "cash", "patient"),
    "account": ("account", "acct"),
    "admit": ("admit", "admission", "adm", "begin", "start", "from"),
    "discharge": ("discharge", "dscg", "end", "thru", "through", "to"),
    "birth": ("birth", "dob", "born", "brdy"),
    "group": ("group", "drg"),
    "gender": ("gender", "sex", "gend"),
    "name": ("name", "nm"),
    "phone": ("phone", "tel", "mobile", "telephone"),
    "address": ("address", "addr", "street", "state", "county", "city", "zip"),
    "diagnosis": ("diagnosis", "diag", "dx", "icd", "dise", "diagnosiscode"),
    "type": ("type", "kind", "category", "class", "cat"),
    "quantity": ("quantity", "qty", "cnt", "count", "units"),
    "price": ("price", "pric", "rate", "unit"),
    "department": ("department", "dept", "ward"),
    "bed": ("bed",),
    "terminal": ("terminal", "pos", "device"),
    "operator": ("operator", "clerk", "user"),
    "insurance": ("insurance", "insutype", "coverage", "plan"),
    "prescription": ("prescription", "rx", "rxno"),
    "trace": ("trace", "traceability", "trac"),
    "level": ("level", "grade", "tier"),
    "ownership": ("ownership", "owner"),
    "contact": ("contact", "coner", "emergency"),
}
_WORD_CONCEPT: dict[str, set[str]] = {}
for _concept, _words in _CONCEPTS.items():
    for _word in _words:
        _WORD_CONCEPT.setdefault(_word, set()).add(_concept)

# canonical words that mean a concept under another name
_CANONICAL_WORD: dict[str, str] = {"total": "amount", "unit": "price", "external": "prescription", "no": "id"}
_WEAK = {"id": 0.5, "type": 0.5}
# concepts that tell sibling columns apart (total / fund / self amounts, claim / admit / discharge times),
# with the penalty a header naming one pays for another column: when an export has one amount, it is
# more often what the fund paid than what the patient paid
_SIBLINGS = {"fund": 0.1, "self": 0.15, "account": 0.15, "admit": 0.1, "discharge": 0.1, "birth": 0.1, "contact": 0.1}


def words(text: str) -> list[str]:
    """Split a header into lower-case words: camelCase, snake_case, digits and punctuation break words."""
    text = unicodedata.normalize("NFKC", str(text))
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return [w for w in re.split(r"[^A-Za-z]+", text.lower()) if w]


def concepts(text: str) -> set[str]:
    """The concepts a header's words carry."""
    found: set[str] = set()
    for word in words(text):
        found |= _WORD_CONCEPT.get(word, set())
    return found


def canonical_concepts(canonical: str) -> dict[str, float]:
    """A canonical column's concepts with their weights (``claim_time`` → claim 1, time 1)."""
    out: dict[str, float] = {}
    parts = canonical.split("_")
    for position, word in enumerate(parts):
        word = _CANONICAL_WORD.get(word, word)
        hits = _WORD_CONCEPT.get(word, set())
        concept = word if word in _CONCEPTS else (sorted(hits)[0] if hits else None)
        if concept:
            # the last word says what the column is (…_type, …_time): it weighs fully, except a bare id
            last = position == len(parts) - 1 and concept != "id"
            out[concept] = 1.0 if last else _WEAK.get(concept, 1.0)
    return out


def score(header: str, canonical: str, aliases: tuple[str, ...] = ()) -> float:
    """0…1: how much ``header`` looks like the canonical column (by concepts, or by an alias's spelling)."""
    wanted = canonical_concepts(canonical)
    have = concepts(header)
    by_concept = sum(w for c, w in wanted.items() if c in have) / sum(wanted.values()) if wanted else 0.0
    if by_concept:  # among equals, the header saying least else wins (AdmissionDt over ClaimStartDt) …
        extra = have - set(wanted)  # … one naming a sibling column's concept loses more; a Clm… prefix hardly
        by_concept -= sum(_SIBLINGS[c] for c in extra & set(_SIBLINGS)) + 0.001 * len(extra & {"claim"})
        by_concept -= 0.01 * len(extra - set(_SIBLINGS) - {"claim"})
    folded = "".join(unicodedata.normalize("NFKC", str(header)).casefold().split())
    by_alias = 0.0
    for alias in (canonical, *aliases):
        other = "".join(unicodedata.normalize("NFKC", alias).casefold().split())
        ratio = difflib.SequenceMatcher(None, folded, other).ratio()
        by_alias = max(by_alias, ratio if ratio >= 0.75 else 0.0)
    return max(by_concept, by_alias)


def best_header(canonical: str, aliases: tuple[str, ...], headers: list[str]) -> tuple[str | None, float]:
    """The header most like the column, and its score; None when nothing reaches :data:`THRESHOLD`."""
    best, best_score = None, 0.0
    for header in headers:
        value = score(header, canonical, aliases)
        if value > best_score:
            best, best_score = header, value
    return (best, best_score) if best_score >= THRESHOLD else (None, best_score)
