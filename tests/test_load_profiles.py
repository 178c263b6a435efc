"""Profiles that describe a foreign export, and the whole tool working on what they load.

The done-when test of the profile work: a CMS-style inpatient export (US dates,
one id column for person and card, no visit-type column, a separate
beneficiary file) loads through a profile alone, then detection, the queue,
a cluster's canvas and a referral package all work on it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest
from referral_walk import referred_claims_csv

from ringsight.config import Settings
from ringsight.errors import InputError
from ringsight.graph.store import GraphStore
from ringsight.identity import pseudonym, short_pseudonym
from ringsight.loaders import load_files
from ringsight.loaders.profiles import load_profile, map_headers
from ringsight.loaders.shape import compile_node

SHIPPED = Path(__file__).resolve().parents[1] / "ringsight" / "loaders" / "shipped_profiles"
FOREIGN_HEADERS = [
    "BeneID", "ClaimID", "ClaimStartDt", "ClaimEndDt", "Provider", "InscClaimAmtReimbursed",
    "AttendingPhysician", "OperatingPhysician", "OtherPhysician", "AdmissionDt", "DischargeDt",
    "DeductibleAmtPaid", "ClmAdmitDiagnosisCode", "ClmDiagnosisCode_1", "ClmDiagnosisCode_2",
]  # fmt: skip


def write_foreign(out: Path) -> dict:
    """A CMS-style inpatient export with a beneficiary file; four patients co-admitted four times at PRV900."""
    out.mkdir(parents=True, exist_ok=True)
    benes = [f"BENE{11000 + i}" for i in range(30)]
    with open(out / "Beneficiary.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["BeneID", "DOB", "DOD", "Gender", "Race", "State", "County"])
        for i, bene in enumerate(benes):
            writer.writerow([bene, f"{1 + i % 12}/{1 + i % 28}/19{30 + i}", "", 1 + i % 2, 1, 10 + i % 3, 200 + i % 5])
    rows: list[dict[str, str]] = []

    def claim(bene: str, provider: str, doctor: str, start: str, end: str, amount: int) -> None:
        values = [bene, f"CLM{40001 + len(rows)}", start, end, provider, str(amount), doctor, "", "", start, end,
                  "1068", "4280", "4280", ""]  # fmt: skip
        rows.append(dict(zip(FOREIGN_HEADERS, values, strict=True)))

    ring = benes[:4]
    for month in (2, 4, 6, 8):
        for bene in ring:
            claim(bene, "PRV900", "PHY500", f"{month}/3/2009", f"{month}/9/2009", 9000)
    for i, bene in enumerate(benes[4:]):
        day, month = 1 + i % 27, 1 + i % 12
        start, end = f"{month}/{day}/2009", f"{month}/{day + 1}/2009"
        claim(bene, f"PRV{100 + i % 6}", f"PHY{300 + i % 9}", start, end, 3000 + 100 * i)
    with open(out / "Inpatient.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FOREIGN_HEADERS)
        writer.writeheader()
        writer.writerows(rows)
    return {"ring": ring, "claims": len(rows), "dir": out}


FOREIGN_PROFILE = """
name = "us-inpatient"
[claims]
date_formats = ["%m/%d/%Y"]
[claims.columns]
claim_id = "ClaimID"
patient_id = "BeneID"
card_id = "BeneID"
facility_id = "Provider"
doctor_id = "AttendingPhysician"
claim_time = "ClaimEndDt"
admit_time = "AdmissionDt"
discharge_time = "DischargeDt"
total_amount = "InscClaimAmtReimbursed"
fund_paid = "InscClaimAmtReimbursed"
diagnosis_code = "ClmDiagnosisCode_1"
patient_birth_date = "DOB"
patient_gender = "Gender"
[claims.constants]
visit_type = "inpatient"
patient_id_type = "other"
[claims.derived]
patient_address = {concat = ["State", "County"], sep = "-"}
[[claims.join]]
name = "beneficiary"
file = "Beneficiary.csv"
on = "BeneID"
"""


@pytest.fixture
def foreign(tmp_path: Path) -> dict:
    facts = write_foreign(tmp_path / "export")
    (tmp_path / "export" / "us.toml").write_text(FOREIGN_PROFILE, encoding="utf-8")
    return {**facts, "profile": tmp_path / "export" / "us.toml", "claims_path": tmp_path / "export" / "Inpatient.csv"}


def test_foreign_export_loads_and_the_whole_tool_works_on_it(
    store: GraphStore, settings: Settings, foreign: dict, tmp_path: Path
) -> None:
    from ringsight.algorithms.pipeline import run_detection
    from ringsight.ui.callbacks.queue import queue_rows
    from ringsight.ui.canvas import Canvas
    from ringsight.ui.data import UiData
    from ringsight.ui.present import display_label

    report = load_files([foreign["claims_path"]], settings=settings, store=store, profile=foreign["profile"])
    assert report.rejected == {} and report.loaded == foreign["claims"]
    assert report.files[0].constants == {"visit_type": "inpatient", "patient_id_type": "other"}
    assert report.files[0].joined and report.files[0].joined[0].endswith("Beneficiary.csv")
    # one header fed both the person and the card; the visit type is the constant; the dates are US dates
    row = store.read(
        "MATCH (p:Patient)<-[:BY_PATIENT]-(c:Claim {claim_id: 'CLM40001'})-[:WITH_CARD]->(k:Card) "
        "RETURN c.visit_type AS visit, c.time AS t, k.card_id AS card, p.birth_cohort AS birth, p.gender AS g"
    ).records()
    assert row, "the claim is linked to its patient and card"
    assert row[0]["visit"] == "inpatient" and str(row[0]["t"]).startswith("2009-02-09")
    assert row[0]["card"] == pseudonym("card", "BENE11000", settings.pseudonym_key()), "the graph holds the pseudonym"
    assert str(row[0]["birth"]) == "1930-1934" and row[0]["g"] == "M", "birth date and gender from the joined file"
    assert store.count_nodes("Address") > 0, "addresses derived from the beneficiary's State and County"

    summary = run_detection(store, settings, window_days=400)
    assert summary.clusters >= 1
    data = UiData(store, settings)
    queue = data.queue()
    rows = queue_rows(queue, "zh")
    assert rows and "PRV900" in rows[0]["facilities"], "an unnamed facility is shown by its code"
    canvas = Canvas(data).open_cluster(queue[0]["cluster_id"])
    assert len([e for e in canvas.elements if "source" not in e["data"]]) >= 4
    patient = next(r for r in data.cluster_refs(queue[0]["cluster_id"]) if r.label == "Patient")
    props = data.entity(patient)
    assert props is not None
    # a member id that is not a resident ID is drawn as its pseudonym, never whole
    card_key = pseudonym("card", "BENE11000", settings.pseudonym_key())
    shown = display_label("Card", {"card_id": card_key}, visible=False)
    assert shown == short_pseudonym("card", card_key) and "BENE" not in shown

    claims_csv = referred_claims_csv(store, queue[0]["cluster_id"], "PRV900 co-admissions", tmp_path / "referral")
    assert "CLM40001" in claims_csv


def test_profile_check_predicts_the_rejects_of_a_wrong_date_format(foreign: dict, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ringsight.cli import app

    wrong = foreign["profile"].read_text(encoding="utf-8").replace('"%m/%d/%Y"', '"%d.%m.%Y"')
    (foreign["dir"] / "wrong.toml").write_text(wrong, encoding="utf-8")
    runner = CliRunner()
    bad = runner.invoke(
        app, ["profile", "check", str(foreign["claims_path"]), "--profile", str(foreign["dir"] / "wrong.toml")]
    )
    assert bad.exit_code == 2, bad.output
    assert "bad_datetime" in bad.output and "would fail" in bad.output and "ready to load" not in bad.output
    ok = runner.invoke(app, ["profile", "check", str(foreign["claims_path"]), "--profile", str(foreign["profile"])])
    assert ok.exit_code == 0, ok.output
    assert "ready to load" in ok.output and f"{foreign['claims']} would load" in ok.output


def test_profile_init_drafts_a_profile_that_needs_few_edits(foreign: dict, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ringsight.cli import app

    out = tmp_path / "draft.toml"
    done = CliRunner().invoke(app, ["profile", "init", str(foreign["claims_path"]), "--out", str(out)])
    assert done.exit_code == 0, done.output
    text = out.read_text(encoding="utf-8")
    assert 'claim_id = "ClaimID"' in text and 'facility_id = "Provider"' in text
    assert 'total_amount = "InscClaimAmtReimbursed"' in text and 'self_paid = "DeductibleAmtPaid"' in text
    assert 'admit_time = "AdmissionDt"' in text and '"%m/%d/%Y"' in text
    assert 'patient_id_type = "other"' in text, "BeneIDs are not resident IDs"
    profile = load_profile(out)  # the draft is a valid profile as written
    mapping = map_headers(FOREIGN_HEADERS, profile.claims)
    assert mapping.missing == ["visit_type", "card_id"], "what a person still has to decide"


def test_unknown_profile_keys_name_the_closest_valid_key(tmp_path: Path) -> None:
    cases = {
        "[claims.defaults]\nvisit_type = 'inpatient'\n": "did you mean 'constants'",
        "[claims]\ndate_format = ['%m/%d/%Y']\n": "did you mean 'date_formats'",
        "[claims.derived]\npatient_address = {concat = ['A'], seperator = '-'}\n": "did you mean 'sep'",
        "[claims.derived]\npatient_address = {eval = '__import__(\"os\")'}\n": "needs exactly one operator",
        "[claims.columns]\nclaim_tme = 'X'\n": "Did you mean 'claim_time'",
        "[claims.constants]\nvisit_type = 'teleport'\n": "not a known visit_type",
        "[[claims.join]]\nname = 'b'\nfile = 'b.csv'\n": "a join needs `on`",
    }
    for body, expected in cases.items():
        path = tmp_path / "p.toml"
        path.write_text(body, encoding="utf-8")
        with pytest.raises(InputError) as caught:
            load_profile(path)
        assert expected in str(caught.value), (body, str(caught.value))


def test_derived_operators() -> None:
    frame = pl.DataFrame({"a": ["AB12", None, "x"], "b": ["1", "2", None], "d": ["9/9/2009", "bad", None]})

    def run(node: object) -> list:
        return frame.select(compile_node(node).alias("v")).to_series().to_list()

    assert run({"concat": ["a", {"lit": "-"}, "b"]}) == ["AB12-1", "-2", "x-"]
    assert run({"slice": "a", "start": 0, "length": 2}) == ["AB", None, "x"]
    assert run({"date": "d", "formats": ["%m/%d/%Y"]}) == ["2009-09-09 00:00:00", None, None]
    assert run({"map": "b", "values": {"1": "M", "2": "F"}}) == ["M", "F", None]
    assert run({"map": "b", "values": {"1": "M"}, "default": "?"}) == ["M", "?", "?"]
    assert run({"coalesce": ["a", "b"]}) == ["AB12", "2", "x"]


def test_closest_header_hints_are_sensible() -> None:
    table = load_profile(None).claims
    mapping = map_headers(FOREIGN_HEADERS, table)
    assert mapping.closest("claim_time", table) in ("ClaimStartDt", "ClaimEndDt")
    assert mapping.closest("facility_id", table) == "Provider"
    assert mapping.closest("visit_type", table) is None, "nothing looks like a visit type: no suggestion"
    assert mapping.closest("card_id", table) is None


def test_shipped_profiles_are_valid_and_named() -> None:
    assert {p.stem for p in SHIPPED.glob("*.toml")} >= {"national", "cms-inpatient"}
    national = load_profile("national")
    assert national.claims.named["claim_id"] == ("setl_id",) and national.items.named["item_code"] == ("med_list_codg",)
    cms = load_profile("cms-inpatient")
    assert cms.claims.constants["visit_type"] == "inpatient" and cms.claims.joins[0].name == "beneficiary"
    with pytest.raises(InputError, match=r"shipped profiles: .*national"):
        load_profile("no-such-profile")


def test_profile_errors_name_what_is_wrong(foreign: dict, store: GraphStore, settings: Settings) -> None:
    claims = foreign["claims_path"]
    body = foreign["profile"].read_text(encoding="utf-8")
    broken = foreign["dir"] / "broken.toml"
    broken.write_text(body.replace('["State", "County"]', '["State", "Borough"]'), encoding="utf-8")
    with pytest.raises(InputError, match=r"lacks the header 'Borough', which the profile's claims.derived reads"):
        load_files([claims], settings=settings, store=store, profile=broken)
    broken.write_text(body.replace('on = "BeneID"', 'on = "MemberID"'), encoding="utf-8")
    with pytest.raises(InputError, match=r"has no key header 'MemberID'"):
        load_files([claims], settings=settings, store=store, profile=broken)
    with pytest.raises(InputError, match=r"--join bene=… names no join"):
        load_files([claims], settings=settings, store=store, profile=foreign["profile"], joins={"bene": claims})
    assert store.count_nodes() == 0, "nothing is written when the profile does not fit"


def test_join_file_given_on_the_command_line(
    foreign: dict, store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    moved = tmp_path / "elsewhere" / "bene.csv"
    moved.parent.mkdir()
    (foreign["dir"] / "Beneficiary.csv").rename(moved)
    with pytest.raises(InputError, match="does not exist"):
        load_files([foreign["claims_path"]], settings=settings, store=store, profile=foreign["profile"])
    report = load_files(
        [foreign["claims_path"]],
        settings=settings,
        store=store,
        profile=foreign["profile"],
        joins={"beneficiary": moved},
    )
    assert report.loaded == foreign["claims"] and report.files[0].joined == [str(moved.resolve())]
