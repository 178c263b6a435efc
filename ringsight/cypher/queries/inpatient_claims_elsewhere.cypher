// name: inpatient_claims_elsewhere
// title_zh: 住院期间在其他机构有结算（挂床住院）
// title_en: Inpatient stays with claims elsewhere during the stay
// description: >
//   Inpatient stays during which the same person settled claims at another
//   facility (an outpatient visit, a pharmacy purchase, another stay). A
//   patient cannot be in a hospital bed and at a pharmacy across town: this
//   is the data trace of 挂床住院 (on the books, not in the bed) and of
//   fictitious stays. margin_hours ignores claims close to admission or
//   discharge. stay_items is the number of items billed on the stay claim;
//   few items per day of a long stay is the second sign of 挂床 — filter on
//   it with max_items_per_day.
// tags: [bed_holding, ghost_patients]
// mode: read
// params:
//   facility: {type: string, default: null, example: H11010500002, description: "only stays at this facility (code)"}
//   min_claims: {type: int, default: 1, min: 1, example: 2, description: "at least this many claims elsewhere during the stay"}
//   max_items_per_day: {type: float, default: null, min: 0, example: 0.5, description: "only stays with at most this many billed items per day (挂床 stays bill little)"}
//   margin_hours: {type: float, default: 0, min: 0, example: 12, description: "ignore claims within this many hours of admission or discharge"}
//   since: {type: date, default: null, example: 2024-01-01, description: "admitted from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "admitted before this day (exclusive)"}
//   limit: {type: int, default: 500, min: 1, example: 100, description: "at most this many stays"}
MATCH (h:Facility)<-[:AT_FACILITY]-(s:Claim)-[:BY_PATIENT]->(p:Patient)
WHERE s.visit_type = 'inpatient' AND s.admit_ts IS NOT NULL AND s.discharge_ts IS NOT NULL
  AND ($facility IS NULL OR h.code = $facility)
  AND ($since IS NULL OR s.admit_ts >= $since) AND ($until IS NULL OR s.admit_ts < $until)
WITH h, s, p, toFloat(coalesce(s.item_count, 0)) * 86400 / (s.discharge_ts - s.admit_ts + 1) AS items_per_day
WHERE $max_items_per_day IS NULL OR items_per_day <= $max_items_per_day
MATCH (p)<-[:BY_PATIENT]-(o:Claim)-[:AT_FACILITY]->(f:Facility)
WHERE o <> s AND f <> h
  AND o.time_ts > s.admit_ts + $margin_hours * 3600 AND o.time_ts < s.discharge_ts - $margin_hours * 3600
WITH s, p, h, items_per_day, o, f
ORDER BY o.time_ts
WITH s, p, h, items_per_day,
     collect({time: o.time, claim: o.claim_id, facility: f.code, facility_name: f.name, kind: f.kind,
              visit_type: o.visit_type, amount: o.total_amount}) AS elsewhere,
     count(DISTINCT f) AS facilities,
     sum(o.total_amount) AS elsewhere_amount
WHERE size(elsewhere) >= $min_claims
RETURN s.claim_id AS stay_claim, p.pid AS pid, p.pid AS name, h.code AS hospital, h.name AS hospital_name,
       s.admit_time AS admit_time, s.discharge_time AS discharge_time,
       (s.discharge_ts - s.admit_ts) / 86400 AS stay_days, s.item_count AS stay_items,
       round(items_per_day * 100) / 100.0 AS items_per_day, s.total_amount AS stay_amount,
       size(elsewhere) AS claims_elsewhere, facilities, elsewhere_amount, elsewhere
ORDER BY claims_elsewhere DESC, stay_days DESC, stay_claim
LIMIT $limit
