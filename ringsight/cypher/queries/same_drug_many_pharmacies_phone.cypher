// name: same_drug_many_pharmacies_phone
// title_zh: 同一电话关联人员在多家药店购买同一药品
// title_en: Same drug at many pharmacies, per shared phone
// description: >
//   Phones (own or emergency contact) whose persons together bought the same
//   item at many different pharmacies. Reselling groups spread one drug over
//   several members' cards and several pharmacies; what links them is often
//   one phone. Rows need at least min_persons persons on the phone.
// tags: [reselling]
// mode: read
// params:
//   phone: {type: string, default: null, example: "13800138000", description: "only this phone number"}
//   item_code: {type: string, default: null, example: XA10BAE010A001010104021, description: "only this item code"}
//   min_pharmacies: {type: int, default: 3, min: 2, example: 4, description: "bought at at least this many pharmacies"}
//   min_persons: {type: int, default: 2, min: 1, example: 3, description: "by at least this many persons of the phone"}
//   drugs_only: {type: bool, default: true, example: false, description: "only drug codes (starting with X or Z)"}
//   kind: {type: string, default: pharmacy, choices: [hospital, clinic, pharmacy], example: pharmacy, description: "facilities of this kind (null for any)"}
//   since: {type: date, default: null, example: 2024-01-01, description: "claims from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "claims before this day (exclusive)"}
//   limit: {type: int, default: 200, min: 1, example: 50, description: "at most this many phone–item rows"}
MATCH (ph:Phone)<-[:HAS_PHONE|CONTACT_PHONE]-(p:Patient)
WHERE $phone IS NULL OR ph.number = $phone
WITH ph, collect(DISTINCT p) AS ps
WHERE size(ps) >= $min_persons
UNWIND ps AS p
MATCH (p)<-[:BY_PATIENT]-(c:Claim)-[:AT_FACILITY]->(f:Facility)
WHERE ($kind IS NULL OR f.kind = $kind)
  AND ($since IS NULL OR c.time_ts >= $since) AND ($until IS NULL OR c.time_ts < $until)
UNWIND c.item_codes AS code
WITH ph, p, c, f, code
WHERE ($item_code IS NULL OR code = $item_code) AND (NOT $drugs_only OR substring(code, 0, 1) IN ['X', 'Z'])
WITH ph, code, count(DISTINCT p) AS persons, count(DISTINCT f) AS pharmacies, count(DISTINCT c) AS claims,
     sum(c.total_amount) AS claims_amount, min(c.time) AS first_time, max(c.time) AS last_time,
     collect(DISTINCT p.pid) AS names, collect(DISTINCT f.name) AS pharmacy_names
WHERE pharmacies >= $min_pharmacies AND persons >= $min_persons
RETURN ph.number AS phone, code AS item_code, persons, pharmacies, claims, claims_amount, first_time, last_time,
       names, pharmacy_names
ORDER BY pharmacies DESC, persons DESC, claims DESC, phone, item_code
LIMIT $limit
