// name: patient_timeline
// title_zh: 参保人就医时间线
// title_en: A person's claim timeline
// description: >
//   Every claim of one insured person in time order, with the facility, card,
//   doctor, diagnosis and amounts. Give the pid (the graph key, a pseudonym;
//   the workbench search finds it from a resident ID).
// tags: [impersonation, bed_holding, reselling, split_charges, repeated_admission]
// mode: read
// params:
//   patient: {type: string, example: "3f2a9c0d5b7e41a68d0c2e9f1b3a5d7c", description: "pid (pseudonym of the resident ID)"}
//   since: {type: date, default: null, example: 2024-01-01, description: "claims from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "claims before this day (exclusive)"}
MATCH (p:Patient)
WHERE p.pid = $patient
MATCH (p)<-[:BY_PATIENT]-(c:Claim)-[:AT_FACILITY]->(f:Facility)
WHERE ($since IS NULL OR c.time_ts >= $since) AND ($until IS NULL OR c.time_ts < $until)
OPTIONAL MATCH (c)-[:WITH_CARD]->(k:Card)
OPTIONAL MATCH (c)-[:BY_DOCTOR]->(d:Doctor)
RETURN c.time AS time, c.visit_type AS visit_type, f.code AS facility, f.name AS facility_name, f.kind AS kind,
       k.card_id AS card, d.name AS doctor, c.diagnosis_code AS diagnosis_code, c.diagnosis_name AS diagnosis_name,
       c.admit_time AS admit_time, c.discharge_time AS discharge_time, c.total_amount AS total_amount,
       c.fund_paid AS fund_paid, c.item_count AS items, c.claim_id AS claim_id, p.pid AS name
ORDER BY c.time_ts, claim_id
