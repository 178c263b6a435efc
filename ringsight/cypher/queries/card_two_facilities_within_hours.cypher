// name: card_two_facilities_within_hours
// title_zh: 一卡短时间内在两家机构结算
// title_en: One card at two facilities within N hours
// description: >
//   Pairs of claims on the same card at two different facilities, the second
//   within `hours` of the first. A person cannot be in two distant places at
//   once: a short gap between facilities in different regions points to
//   冒名就医 / 盗刷 (someone else using the card). A hospital visit followed by
//   a pharmacy nearby is normal — look at same_region and the gap. The
//   card's claims are taken in time order and each is compared with the next
//   one: any two claims at different facilities within the limit imply such a
//   consecutive pair, so nothing is missed and nothing is listed twice.
// tags: [impersonation]
// mode: read
// params:
//   hours: {type: float, default: 2, min: 0, example: 1.5, description: "at most this many hours between the two claims"}
//   different_region: {type: bool, default: false, example: true, description: "only pairs whose facilities are in different regions"}
//   card: {type: string, default: null, example: "6217000012345678", description: "only this card"}
//   since: {type: date, default: null, example: 2024-01-01, description: "claims from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "claims before this day (exclusive)"}
//   limit: {type: int, default: 500, min: 1, example: 100, description: "at most this many pairs, shortest gap first"}
MATCH (k:Card)<-[:WITH_CARD]-(c:Claim)-[:AT_FACILITY]->(f:Facility)
WHERE ($card IS NULL OR k.card_id = $card)
  AND ($since IS NULL OR c.time_ts >= $since) AND ($until IS NULL OR c.time_ts < $until)
WITH k, c, f
ORDER BY c.time_ts, c.claim_id
WITH k, collect({c: c, f: f}) AS seq
WHERE size(seq) >= 2
UNWIND range(0, size(seq) - 2) AS i
WITH k, seq[i].c AS c1, seq[i].f AS f1, seq[i + 1].c AS c2, seq[i + 1].f AS f2
WHERE f1 <> f2 AND c2.time_ts - c1.time_ts <= $hours * 3600
  AND (NOT $different_region OR f1.region <> f2.region)
OPTIONAL MATCH (c1)-[:BY_PATIENT]->(p1:Patient)
OPTIONAL MATCH (c2)-[:BY_PATIENT]->(p2:Patient)
RETURN k.card_id AS card, p1.name AS patient_1, p2.name AS patient_2,
       f1.code AS facility_1, f1.name AS facility_1_name, c1.time AS time_1,
       f2.code AS facility_2, f2.name AS facility_2_name, c2.time AS time_2,
       (c2.time_ts - c1.time_ts) / 60 AS gap_minutes, f1.region = f2.region AS same_region,
       c1.claim_id AS claim_1, c2.claim_id AS claim_2
ORDER BY gap_minutes, card, time_1
LIMIT $limit
