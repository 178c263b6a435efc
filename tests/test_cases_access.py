"""Who sees what: masking of personal data per role in records, UI rows and query results; audited reveals."""

from __future__ import annotations

import pytest
from test_cases_data import PATIENTS, build_ring, make_users

from ringsight.cases import audit
from ringsight.cases.access import mask_record, mask_rows, mask_text, reveal, reveal_record
from ringsight.cases.roles import ROLES, AccessDenied, Permission, can, may_unmask, require, require_role
from ringsight.graph.store import GraphStore

ZHANG = PATIENTS[0]
PATIENT_RECORD = {
    "pid": ZHANG["pid"],
    "name": ZHANG["name"],
    "id_raw": ZHANG["id_raw"],
    "birth_date": ZHANG["birth_date"],
    "gender": "M",
}
CLEARED = {"investigator", "supervisor"}


def _clear_values(record: dict) -> set[str]:
    return {str(v) for v in record.values()} & {ZHANG["name"], ZHANG["id_raw"], ZHANG["birth_date"]}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_masked_records_by_default(role: str) -> None:
    masked = mask_record(PATIENT_RECORD, role, label="Patient")
    assert masked["name"] == "张**"
    assert masked["id_raw"] == ZHANG["id_raw"][:6] + "********" + ZHANG["id_raw"][-4:]
    assert masked["birth_date"] == "1958-**-**"
    assert masked["pid"] == ZHANG["pid"] and masked["gender"] == "M"  # not personal: unchanged
    assert PATIENT_RECORD["name"] == ZHANG["name"]  # the input is not modified


@pytest.mark.parametrize("role", ROLES)
def test_only_cleared_roles_get_clear_values_when_they_ask(role: str) -> None:
    shown = mask_record(PATIENT_RECORD, role, label="Patient", unmask=True)
    if role in CLEARED:
        assert shown == PATIENT_RECORD
    else:
        assert _clear_values(shown) == set(), f"{role} must never see clear personal data"
    assert may_unmask(role) == (role in CLEARED)


def test_masking_by_label_for_cards_phones_addresses() -> None:
    assert mask_record({"card_id": "6217000011112222"}, "analyst", label="Card") == {"card_id": "6217********2222"}
    assert mask_record({"number": "13812345678"}, "analyst", label="Phone") == {"number": "138****5678"}
    addr = mask_record({"key": ZHANG["address_text"], "text": ZHANG["address_text"]}, "analyst", label="Address")
    assert addr == {"key": "北京市朝阳区****", "text": "北京市朝阳区****"}
    # Facility and doctor names are not personal data of an insured person.
    assert mask_record({"name": "康宁大药房"}, "analyst", label="Facility") == {"name": "康宁大药房"}


def test_ui_member_rows_mask_properties_and_keys() -> None:
    rows = [
        {"label": "Card", "key": "6217000011112222", "properties": {"card_id": "6217000011112222"}, "role": "member"},
        {"label": "Patient", "key": "p-zhang", "properties": PATIENT_RECORD, "role": "member"},
    ]
    card, patient = mask_rows(rows, "investigator")
    assert card["key"] == "6217********2222" and card["properties"]["card_id"] == "6217********2222"
    assert patient["key"] == "p-zhang" and patient["properties"]["name"] == "张**"
    assert mask_rows(rows, "supervisor", unmask=True) == rows


def test_unlabelled_rows_are_masked_by_field_name_and_by_shape() -> None:
    row = {
        "patient_name": "李秀英",
        "contact_phone": "13800001111",
        "card_id": "6217000033334444",
        "facility_name": "康宁大药房",
        "remark": f"持卡人身份证 {ZHANG['id_raw']}，电话 13912345679",
    }
    masked = mask_record(row, "analyst")
    assert masked["patient_name"] == "李**"
    assert masked["contact_phone"] == "138****1111"
    assert masked["card_id"] == "6217********4444"
    assert masked["facility_name"] == "康宁大药房"
    assert ZHANG["id_raw"] not in masked["remark"] and "13912345679" not in masked["remark"]
    assert mask_text("no identifiers here 2026-03-01") == "no identifiers here 2026-03-01"


def test_the_graph_holds_no_identity_of_the_ring(store: GraphStore) -> None:
    build_ring(store)
    result = store.read(
        "MATCH (p:Patient {pid: $pid})-[:HAS_CARD]->(c:Card), (p)-[:LIVES_AT]->(a:Address) "
        "RETURN p, p.name, p.id_raw AS hidden, c, c.card_id, a",
        {"pid": ZHANG["pid"]},
    )
    text = repr(result.rows)
    for value in (ZHANG["name"], ZHANG["id_raw"], ZHANG["card_number"], ZHANG["address_text"], ZHANG["phone_number"]):
        assert value not in text
    assert result.rows[0][1] is None and result.rows[0][2] is None


def test_reveal_is_audited_and_refused_to_uncleared_roles(store: GraphStore) -> None:
    build_ring(store)
    users = make_users(store)
    props = reveal(store, users["inv"], "Patient", ZHANG["pid"], reason="核实身份")
    assert props["id_raw"] == ZHANG["id_raw"] and props["name"] == ZHANG["name"]
    assert reveal(store, users["sup"], "Card", ZHANG["card"])["card_id"] == ZHANG["card_number"]
    assert len(audit.list_entries(store, action="unmask")) == 2
    entries = audit.list_entries(store, action="unmask", target=f"Patient:{ZHANG['pid']}")
    assert len(entries) == 1 and entries[0]["user"] == "inv" and entries[0]["target"] == f"Patient:{ZHANG['pid']}"
    assert ZHANG["id_raw"] not in (entries[0]["after"] or "")  # the trail names fields, never the values
    for name in ("ana", "adm"):
        with pytest.raises(AccessDenied, match="may not do 'unmask'"):
            reveal(store, users[name], "Patient", ZHANG["pid"])
        with pytest.raises(AccessDenied):
            reveal_record(store, users[name], PATIENT_RECORD, target="Cluster:C000001 members")
    assert len(audit.list_entries(store, action="unmask")) == 2


def test_permission_table_and_checks(store: GraphStore) -> None:
    users = make_users(store)
    assert can(users["sup"], Permission.CASE_DECIDE) and not can(users["inv"], Permission.CASE_DECIDE)
    assert can(users["adm"], Permission.USER_MANAGE) and not can(users["sup"], Permission.USER_MANAGE)
    assert not can(users["adm"], Permission.EXPORT_REFERRAL) and not can(users["ana"], Permission.EXPORT_REFERRAL)
    assert not can(None, Permission.VIEW)
    with pytest.raises(AccessDenied, match="not logged in"):
        require(None, Permission.VIEW)
    assert require_role(users["sup"], "supervisor", "admin") is users["sup"]
    with pytest.raises(AccessDenied, match="supervisor or admin"):
        require_role(users["inv"], "supervisor", "admin")
