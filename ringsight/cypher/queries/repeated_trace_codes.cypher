// name: repeated_trace_codes
// title_zh: 追溯码重复结算（回流药）
// title_en: Repeated drug trace codes (回流药)
// description: >
//   Drug traceability codes (追溯码) settled on more than one claim. A code is
//   printed on one package, which legitimately sells once; a second
//   settlement means the package came back into the market (回流药) — bought
//   on one card, resold, and billed again on another card, often at another
//   pharmacy. settlements lists each sale in time order, linking the sellers
//   and the re-sellers.
// tags: [trace_code_resale, reselling]
// mode: read
// params:
//   min_claims: {type: int, default: 2, min: 2, example: 3, description: "settled on at least this many claims"}
//   min_facilities: {type: int, default: 1, min: 1, example: 2, description: "at at least this many facilities"}
//   facility: {type: string, default: null, example: P11010500001, description: "only codes settled at least once at this facility"}
//   since: {type: date, default: null, example: 2024-01-01, description: "claims from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "claims before this day (exclusive)"}
//   limit: {type: int, default: 500, min: 1, example: 100, description: "at most this many codes"}
MATCH (t:TraceCode)<-[:HAS_TRACE]-(c:Claim)-[:AT_FACILITY]->(f:Facility)
WHERE ($since IS NULL OR c.time_ts >= $since) AND ($until IS NULL OR c.time_ts < $until)
OPTIONAL MATCH (c)-[:WITH_CARD]->(k:Card)
OPTIONAL MATCH (c)-[:BY_PATIENT]->(p:Patient)
WITH t, c, f, k, p
ORDER BY c.time_ts, c.claim_id
WITH t,
     count(DISTINCT c) AS claims,
     count(DISTINCT f) AS facilities,
     count(DISTINCT k) AS cards,
     count(DISTINCT p) AS persons,
     collect(DISTINCT f.code) AS facility_codes,
     min(c.time) AS first_time,
     max(c.time) AS last_time,
     collect({time: c.time, claim: c.claim_id, facility: f.code, facility_name: f.name, card: k.card_id,
              person: p.pid}) AS settlements
WHERE claims >= $min_claims AND facilities >= $min_facilities
  AND ($facility IS NULL OR $facility IN facility_codes)
RETURN t.code AS trace_code, claims, facilities, cards, persons, first_time, last_time, settlements
ORDER BY facilities DESC, claims DESC, trace_code
LIMIT $limit
