// name: same_drug_many_pharmacies_person
// title_zh: 同一人在多家药店购买同一药品
// title_en: Same drug at many pharmacies, per person
// description: >
//   Persons who bought the same item (national item code; drugs start with X
//   or Z) at many different pharmacies. Spreading purchases of a high-value
//   drug over pharmacies hides quantities beyond therapeutic need — the
//   pattern of 套取药品倒买倒卖 (cashing out a card by reselling drugs).
//   claims_amount is the total of the claims that include the item.
// tags: [reselling]
// mode: read
// params:
//   patient: {type: string, default: null, example: 3f9a…, description: "only this person (pid or person number)"}
//   item_code: {type: string, default: null, example: XA10BAE010A001010104021, description: "only this item code"}
//   min_pharmacies: {type: int, default: 3, min: 2, example: 4, description: "bought at at least this many pharmacies"}
//   drugs_only: {type: bool, default: true, example: false, description: "only drug codes (starting with X or Z)"}
//   kind: {type: string, default: pharmacy, choices: [hospital, clinic, pharmacy], example: pharmacy, description: "facilities of this kind (null for any)"}
//   since: {type: date, default: null, example: 2024-01-01, description: "claims from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "claims before this day (exclusive)"}
//   limit: {type: int, default: 200, min: 1, example: 50, description: "at most this many person–item rows"}
MATCH (p:Patient)<-[:BY_PATIENT]-(c:Claim)-[:AT_FACILITY]->(f:Facility)
WHERE ($kind IS NULL OR f.kind = $kind)
  AND ($patient IS NULL OR p.pid = $patient)
  AND ($since IS NULL OR c.time_ts >= $since) AND ($until IS NULL OR c.time_ts < $until)
WITH p, collect({c: c, f: f}) AS visits, count(DISTINCT f) AS places
WHERE places >= $min_pharmacies
UNWIND visits AS v
WITH p, v.c AS c, v.f AS f
UNWIND c.item_codes AS code
WITH p, c, f, code
WHERE ($item_code IS NULL OR code = $item_code) AND (NOT $drugs_only OR substring(code, 0, 1) IN ['X', 'Z'])
WITH p, code, count(DISTINCT f) AS pharmacies, count(DISTINCT c) AS claims, sum(c.total_amount) AS claims_amount,
     min(c.time) AS first_time, max(c.time) AS last_time, collect(DISTINCT f.name) AS pharmacy_names
WHERE pharmacies >= $min_pharmacies
RETURN p.pid AS pid, p.pid AS name, code AS item_code, pharmacies, claims, claims_amount, first_time, last_time,
       pharmacy_names
ORDER BY pharmacies DESC, claims DESC, pid, item_code
LIMIT $limit
