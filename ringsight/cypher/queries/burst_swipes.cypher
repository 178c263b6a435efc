// name: burst_swipes
// title_zh: 突击刷卡（药店 / 终端短时间内多卡结算）
// title_en: Burst swipes at a pharmacy or terminal
// description: >
//   Windows of a few minutes in which many distinct cards were swiped at one
//   facility — or, per terminal (POS), at one card reader — the signature of
//   聚敛盗刷 (a pharmacy swiping collected cards in a burst, often off-hours).
//   For every claim a window of window_minutes starts at it; the busiest
//   window per place and day is reported, with how many of its claims fell
//   off-hours (before 07:00 or from 21:00, Beijing time). Give a facility, a
//   terminal or a period on a large graph: every claim opens a window.
// tags: [card_collecting, goods_as_drugs]
// mode: read
// params:
//   facility: {type: string, default: null, example: P11010500001, description: "only this facility (code)"}
//   terminal: {type: string, default: null, example: "P11010500001:T01", description: "only this terminal (facility code + ':' + terminal id); implies per_terminal"}
//   per_terminal: {type: bool, default: false, example: true, description: "count per terminal instead of per facility"}
//   kind: {type: string, default: null, example: pharmacy, choices: [hospital, clinic, pharmacy], description: "only facilities of this kind"}
//   window_minutes: {type: int, default: 30, min: 1, max: 1440, example: 20, description: "length of a window"}
//   min_cards: {type: int, default: 5, min: 2, example: 10, description: "at least this many distinct cards in the window"}
//   since: {type: date, default: null, example: 2024-01-01, description: "claims from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "claims before this day (exclusive)"}
//   limit: {type: int, default: 200, min: 1, example: 50, description: "at most this many windows, most cards first"}
MATCH (c:Claim)-[:AT_FACILITY]->(f:Facility)
WHERE ($facility IS NULL OR f.code = $facility) AND ($kind IS NULL OR f.kind = $kind)
  AND ($since IS NULL OR c.time_ts >= $since) AND ($until IS NULL OR c.time_ts < $until)
OPTIONAL MATCH (c)-[:ON_TERMINAL]->(t:Terminal)
WITH c, f, t, ($per_terminal OR $terminal IS NOT NULL) AS by_terminal
WHERE ($terminal IS NULL OR t.key = $terminal) AND (NOT by_terminal OR t IS NOT NULL)
WITH c, f, by_terminal, CASE WHEN by_terminal THEN t.key ELSE f.code END AS place
MATCH (c2:Claim)-[:AT_FACILITY]->(f)
WHERE c2.time_ts >= c.time_ts AND c2.time_ts < c.time_ts + $window_minutes * 60
OPTIONAL MATCH (c2)-[:ON_TERMINAL]->(t2:Terminal)
WITH c, f, place, by_terminal, c2, t2
WHERE NOT by_terminal OR t2.key = place
OPTIONAL MATCH (c2)-[:WITH_CARD]->(k:Card)
WITH f, place, c, c2, k, toInteger(substring(c2.time, 11, 2)) AS hour
WITH f, place, c,
     count(DISTINCT k) AS cards,
     count(DISTINCT c2) AS claims,
     sum(c2.total_amount) AS amount,
     count(CASE WHEN hour < 7 OR hour >= 21 THEN 1 END) AS off_hours,
     max(c2.time) AS end_time
WHERE cards >= $min_cards
WITH f, place, substring(c.time, 0, 10) AS day, c.time AS start_time, cards, claims, amount, off_hours, end_time
ORDER BY cards DESC, claims DESC, start_time
WITH f, place, day,
     collect({start: start_time, end: end_time, cards: cards, claims: claims, amount: amount, off: off_hours})[0] AS w
RETURN f.code AS facility, f.name AS facility_name, place, day, w.start AS window_start, w.end AS window_end,
       w.cards AS cards, w.claims AS claims, w.amount AS amount, w.off AS off_hours
ORDER BY cards DESC, claims DESC, facility, day
LIMIT $limit
