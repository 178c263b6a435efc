// name: burst_swipes
// title_zh: 突击刷卡（药店 / 终端短时间内多卡结算）
// title_en: Burst swipes at a pharmacy or terminal
// description: >
//   Windows of a few minutes in which many distinct cards were swiped at one
//   facility — or, per terminal (POS), at one card reader — the signature of
//   聚敛盗刷 (a pharmacy swiping collected cards in a burst, often off-hours).
//   For every claim a window of window_minutes starts at it; the busiest
//   window per place and day is reported, with how many of its claims fell
//   off-hours (before 07:00 or from 21:00, Beijing time). Claims are first
//   grouped into slots of window_minutes, and only windows starting in a
//   slot whose claims and the next slot's hold min_cards cards are examined,
//   so the work grows with the number of claims, not with its square.
// tags: [card_collecting, goods_as_drugs]
// mode: read
// params:
//   facility: {type: string, default: null, example: P11010500001, description: "only this facility (code)"}
//   terminal: {type: string, default: null, example: "P11010500001:T01", description: "only this terminal (facility code + ':' + terminal id); implies per_terminal"}
//   per_terminal: {type: bool, default: false, example: true, description: "count per terminal instead of per facility"}
//   kind: {type: string, default: pharmacy, example: clinic, choices: [hospital, clinic, pharmacy], description: "only facilities of this kind (null for any)"}
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
OPTIONAL MATCH (c)-[:WITH_CARD]->(k:Card)
WITH f, CASE WHEN by_terminal THEN t.key ELSE f.code END AS place, c.time_ts / ($window_minutes * 60) AS slot,
     {ts: c.time_ts, time: c.time, card: k.card_id, amount: c.total_amount,
      hour: toInteger(substring(c.time, 11, 2))} AS x
UNWIND [0, 1] AS shift
WITH f, place, slot - shift AS slot, shift, x
WITH f, place, slot, collect(x) AS pool, collect(CASE WHEN shift = 0 THEN x END) AS starts,
     count(DISTINCT x.card) AS pool_cards
WHERE pool_cards >= $min_cards AND size(starts) > 0
UNWIND starts AS s
WITH f, place, s, [y IN pool WHERE y.ts >= s.ts AND y.ts < s.ts + $window_minutes * 60] AS win
WITH f, place, s, win,
     reduce(acc = [], y IN win | CASE WHEN y.card IS NULL OR y.card IN acc THEN acc ELSE acc + y.card END) AS cards
WHERE size(cards) >= $min_cards
WITH f, place, substring(s.time, 0, 10) AS day, s.time AS start_time, size(cards) AS cards, size(win) AS claims,
     reduce(total = 0.0, y IN win | total + coalesce(y.amount, 0.0)) AS amount,
     size([y IN win WHERE y.hour < 7 OR y.hour >= 21]) AS off_hours,
     reduce(last = s, y IN win | CASE WHEN y.ts > last.ts THEN y ELSE last END).time AS end_time
ORDER BY cards DESC, claims DESC, start_time
WITH f, place, day,
     collect({start: start_time, end: end_time, cards: cards, claims: claims, amount: amount, off: off_hours})[0] AS w
RETURN f.code AS facility, f.name AS facility_name, place, day, w.start AS window_start, w.end AS window_end,
       w.cards AS cards, w.claims AS claims, w.amount AS amount, w.off AS off_hours
ORDER BY cards DESC, claims DESC, facility, day
LIMIT $limit
