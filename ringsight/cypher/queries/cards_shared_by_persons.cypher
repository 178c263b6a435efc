// name: cards_shared_by_persons
// title_zh: 一卡多人使用
// title_en: Cards used by more than one person
// description: >
//   Cards (医保卡 / 电子凭证) swiped for the claims of two or more different
//   insured persons. A card belongs to one person, so several persons on one
//   card point to 冒名就医 (using someone else's card) or to a pharmacy that
//   collects cards (聚敛盗刷). Family mutual-aid use of an account
//   (个账家庭共济) is legitimate: check how the persons are related first.
// tags: [impersonation, card_collecting]
// mode: read
// params:
//   min_persons: {type: int, default: 2, min: 2, example: 3, description: "at least this many distinct persons on the card"}
//   since: {type: date, default: null, example: 2024-01-01, description: "claims from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "claims before this day (exclusive)"}
//   limit: {type: int, default: 200, min: 1, example: 50, description: "at most this many cards, most persons first"}
MATCH (k:Card)<-[:HAS_CARD]-(holder:Patient)
WITH k, count(holder) AS holders
WHERE holders >= $min_persons
MATCH (k)<-[:WITH_CARD]-(c:Claim)-[:BY_PATIENT]->(p:Patient)
WHERE ($since IS NULL OR c.time_ts >= $since) AND ($until IS NULL OR c.time_ts < $until)
OPTIONAL MATCH (c)-[:AT_FACILITY]->(f:Facility)
WITH k,
     count(DISTINCT p) AS persons,
     collect(DISTINCT p.pid) AS names,
     collect(DISTINCT p.pid) AS pids,
     count(DISTINCT c) AS claims,
     count(DISTINCT f) AS facilities,
     sum(c.total_amount) AS amount,
     min(c.time) AS first_time,
     max(c.time) AS last_time
WHERE persons >= $min_persons
RETURN k.card_id AS card, persons, names, pids, claims, facilities, amount, first_time, last_time
ORDER BY persons DESC, claims DESC, card
LIMIT $limit
