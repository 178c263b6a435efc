// name: co_admission_groups
// title_zh: 同进同出住院（结伴住院）
// title_en: Groups admitted and discharged together
// description: >
//   Inpatient stays at one facility that began on the same day and ended on
//   the same day, grouped. Recruited patients (诱导住院, often elderly people
//   brought in for free "check-ups") and fictitious patients (假病人) are
//   admitted and discharged in groups, often with one contact phone or from
//   one village; a group with fewer phones or addresses than patients, or one
//   diagnosis for all, is worth a look. A facility appearing with several
//   groups is doing it repeatedly.
// tags: [induced_admission, ghost_patients]
// mode: read
// params:
//   facility: {type: string, default: null, example: H11010500002, description: "only this facility (code)"}
//   min_group: {type: int, default: 3, min: 2, example: 5, description: "at least this many patients admitted together"}
//   same_discharge: {type: bool, default: true, example: false, description: "also require the same discharge day"}
//   since: {type: date, default: null, example: 2024-01-01, description: "admitted from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "admitted before this day (exclusive)"}
//   limit: {type: int, default: 200, min: 1, example: 50, description: "at most this many groups, largest first"}
MATCH (p:Patient)<-[:BY_PATIENT]-(c:Claim)-[:AT_FACILITY]->(f:Facility)
WHERE c.visit_type = 'inpatient' AND c.admit_ts IS NOT NULL
  AND ($facility IS NULL OR f.code = $facility)
  AND ($since IS NULL OR c.admit_ts >= $since) AND ($until IS NULL OR c.admit_ts < $until)
WITH f, p, c, substring(c.admit_time, 0, 10) AS admit_day,
     CASE WHEN $same_discharge THEN substring(c.discharge_time, 0, 10) ELSE '*' END AS discharge_day
WITH f, admit_day, discharge_day, collect(DISTINCT p) AS patients, count(DISTINCT c) AS stays,
     sum(c.total_amount) AS amount, count(DISTINCT c.diagnosis_code) AS diagnoses,
     collect(DISTINCT c.diagnosis_name) AS diagnosis_names
WHERE size(patients) >= $min_group
UNWIND patients AS p
OPTIONAL MATCH (p)-[:HAS_PHONE|CONTACT_PHONE]->(ph:Phone)
OPTIONAL MATCH (p)-[:LIVES_AT]->(a:Address)
WITH f, admit_day, discharge_day, stays, amount, diagnoses, diagnosis_names,
     collect(DISTINCT p.pid) AS names, collect(DISTINCT p.pid) AS pids, count(DISTINCT p) AS group_size,
     count(DISTINCT ph) AS phones, count(DISTINCT a) AS addresses
RETURN f.code AS facility, f.name AS facility_name, admit_day, discharge_day, group_size, stays, phones, addresses,
       diagnoses, diagnosis_names, amount, names, pids
ORDER BY group_size DESC, admit_day, facility
LIMIT $limit
