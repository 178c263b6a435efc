"""The graph model, declared once as data.

Every label has one key property (unique) and a few indexed properties; every
relationship type names its start and end labels. Stores turn this into their
own DDL (see ``ensure_schema`` in each store), loaders and queries refer to the
constants here rather than spelling labels by hand.

Times are stored twice: as integer epoch seconds (``*_ts``) for range
filters that behave the same on FalkorDB and Neo4j, and as ISO strings for
display.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NodeType:
    """A node label, its unique key property and the properties worth an index."""

    label: str
    key: str
    indexed: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class RelType:
    """A relationship type with the labels it joins (start → end)."""

    type: str
    start: str
    end: str | tuple[str, ...]
    description: str = ""
    properties: tuple[str, ...] = field(default=())


# --- entity labels -----------------------------------------------------------
PATIENT = NodeType(
    "Patient",
    "pid",
    (),
    "insured person; pid is a keyed hash (pseudonym) of the resident ID, the ID itself is in the identity vault",
)
CARD = NodeType("Card", "card_id", (), "medical-insurance card or e-voucher; card_id is a pseudonym of its number")
PHONE = NodeType("Phone", "number", (), "phone; number is a pseudonym of the normalised number")
ADDRESS = NodeType(
    "Address",
    "key",
    ("district",),
    "address; key is a pseudonym of the normalised matching key; county is the 6-digit county-level division",
)

PERSONAL_LABELS: dict[str, str] = {"Patient": "patient", "Card": "card", "Phone": "phone", "Address": "address"}
"""Labels keyed by pseudonyms, and the identity-vault kind of each key."""
FACILITY = NodeType("Facility", "code", ("name", "kind"), "designated hospital, clinic or pharmacy")
DOCTOR = NodeType("Doctor", "code", ("name",), "medical-insurance doctor")
TERMINAL = NodeType("Terminal", "key", (), "card reader / POS; key is facility code + ':' + terminal id")
OPERATOR = NodeType("Operator", "key", (), "staff account that settled claims; key is facility code + ':' + id")
CLAIM = NodeType(
    "Claim",
    "claim_id",
    ("time_ts", "visit_type"),
    "one settlement; items are summarised on it (item_count, drug codes, trace codes)",
)
DRUG_TRACE = NodeType("TraceCode", "code", (), "drug traceability code (追溯码) settled at least twice")

# --- investigation labels ----------------------------------------------------
RUN = NodeType("Run", "run_id", ("started_ts",), "one detection run with its parameters and timings")
CLUSTER = NodeType("Cluster", "cluster_id", ("score", "status"), "a suspect ring found by detection")
CASE = NodeType("Case", "case_id", ("state",), "an investigation case covering clusters and entities")
ANNOTATION = NodeType("Annotation", "annotation_id", (), "a note or tag on an entity, relationship or cluster")
SANCTION = NodeType("Sanction", "sanction_id", (), "a rectification or sanction on a facility or person")

NODE_TYPES: tuple[NodeType, ...] = (
    PATIENT,
    CARD,
    PHONE,
    ADDRESS,
    FACILITY,
    DOCTOR,
    TERMINAL,
    OPERATOR,
    CLAIM,
    DRUG_TRACE,
    RUN,
    CLUSTER,
    CASE,
    ANNOTATION,
    SANCTION,
)
NODE_TYPE_BY_LABEL = {n.label: n for n in NODE_TYPES}

ENTITY_LABELS: tuple[str, ...] = (
    "Patient",
    "Card",
    "Phone",
    "Address",
    "Facility",
    "Doctor",
    "Terminal",
    "Operator",
)

# --- relationship types ------------------------------------------------------
REL_TYPES: tuple[RelType, ...] = (
    RelType("HAS_CARD", "Patient", "Card", "the patient holds / used this card"),
    RelType("HAS_PHONE", "Patient", "Phone", "the patient's own phone"),
    RelType("CONTACT_PHONE", "Patient", "Phone", "the emergency-contact phone given by the patient"),
    RelType("LIVES_AT", "Patient", "Address", "the patient's address"),
    RelType("WORKS_AT", "Doctor", "Facility", "the doctor practises at the facility"),
    RelType("IN_FACILITY", ("Terminal", "Operator"), "Facility", "a terminal or operator of the facility"),
    RelType("BY_PATIENT", "Claim", "Patient", "the insured person of the claim"),
    RelType("WITH_CARD", "Claim", "Card", "the card swiped for the claim"),
    RelType("AT_FACILITY", "Claim", "Facility", "where the claim was settled"),
    RelType("BY_DOCTOR", "Claim", "Doctor", "the responsible or prescribing doctor"),
    RelType("ON_TERMINAL", "Claim", "Terminal", "the terminal the card was swiped on"),
    RelType("BY_OPERATOR", "Claim", "Operator", "the staff account that settled the claim"),
    RelType("HAS_TRACE", "Claim", "TraceCode", "a trace code settled on this claim"),
    RelType("FOUND", "Run", "Cluster", "the run that produced (or re-found) the cluster"),
    RelType("HAS_MEMBER", "Cluster", ENTITY_LABELS, "an entity in the cluster", ("role", "weight")),
    RelType("COVERS", "Case", ("Cluster", *ENTITY_LABELS), "what a case is about"),
    RelType("ABOUT", "Annotation", ("Cluster", "Case", "Claim", *ENTITY_LABELS), "what a note describes"),
    RelType("SANCTIONED", "Sanction", ("Facility", "Patient", "Doctor"), "who was rectified / sanctioned"),
)
REL_TYPE_BY_NAME = {r.type: r for r in REL_TYPES}

# Relationship types from a claim to the entities it links (used to fold claims
# into entity-to-entity links for display and projections).
CLAIM_LINKS: tuple[str, ...] = (
    "BY_PATIENT",
    "WITH_CARD",
    "AT_FACILITY",
    "BY_DOCTOR",
    "ON_TERMINAL",
    "BY_OPERATOR",
)


# Property names queries read that a graph may not have yet (a fresh load has
# no sanction, cluster or run; optional claim fields may be empty everywhere).
# Stores that warn about names they have never seen (Neo4j) register these.
QUERIED_PROPERTIES: tuple[str, ...] = (
    # claims
    "admit_ts",
    "admit_time",
    "discharge_ts",
    "discharge_time",
    "bed_no",
    "department",
    "diagnosis_code",
    "diagnosis_name",
    "item_count",
    "item_codes",
    "trace_codes",
    "terminal_id",
    # addresses: the county-level division of a home
    "county",
    "operator_id",
    # detection runs, clusters and their members
    "run_id",
    "first_run_id",
    "started_ts",
    "finished_ts",
    "finished",
    "status",
    "error",
    "timings",
    "coverage",
    "score",
    "change",
    "member_count",
    "typologies",
    "signals",
    "role",
    "weight",
    "created_ts",
    # sanctions, cases and annotations
    "sanction_id",
    "kind",
    "from_ts",
    "until_ts",
    "case_id",
    "state",
    "deadline_ts",
    "annotation_id",
    "retracted_ts",
)


def key_of(label: str) -> str:
    """The key property of a label (``Patient`` → ``pid``)."""
    return NODE_TYPE_BY_LABEL[label].key
