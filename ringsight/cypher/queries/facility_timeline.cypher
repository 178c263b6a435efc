// name: facility_timeline
// title_zh: 机构结算时间线
// title_en: A facility's claim timeline
// description: >
//   Every claim settled at one facility in time order, with the person, card,
//   terminal, operator and amounts — the raw view behind a burst of swipes or
//   a group admission. Give a period on a large facility; the row cap applies.
// tags: [card_collecting, ghost_patients, induced_admission, split_charges]
// mode: read
// params:
//   facility: {type: string, example: P11010500001, description: "facility code"}
//   since: {type: date, default: null, example: 2024-01-01, description: "claims from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "claims before this day (exclusive)"}
//   visit_type: {type: string, default: null, choices: [outpatient, inpatient, pharmacy], example: inpatient, description: "only this kind of visit"}
MATCH (f:Facility {code: $facility})<-[:AT_FACILITY]-(c:Claim)
WHERE ($since IS NULL OR c.time_ts >= $since) AND ($until IS NULL OR c.time_ts < $until)
  AND ($visit_type IS NULL OR c.visit_type = $visit_type)
OPTIONAL MATCH (c)-[:BY_PATIENT]->(p:Patient)
OPTIONAL MATCH (c)-[:WITH_CARD]->(k:Card)
OPTIONAL MATCH (c)-[:ON_TERMINAL]->(t:Terminal)
OPTIONAL MATCH (c)-[:BY_OPERATOR]->(o:Operator)
OPTIONAL MATCH (c)-[:BY_DOCTOR]->(d:Doctor)
RETURN c.time AS time, c.visit_type AS visit_type, p.pid AS name, p.pid AS pid, k.card_id AS card,
       t.terminal_id AS terminal, o.operator_id AS operator, d.name AS doctor,
       c.diagnosis_name AS diagnosis_name, c.admit_time AS admit_time, c.discharge_time AS discharge_time,
       c.total_amount AS total_amount, c.fund_paid AS fund_paid, c.item_count AS items, c.claim_id AS claim_id
ORDER BY c.time_ts, claim_id
