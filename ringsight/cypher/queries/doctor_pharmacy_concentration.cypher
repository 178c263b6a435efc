// name: doctor_pharmacy_concentration
// title_zh: 医生处方集中流向单一药店
// title_en: Doctor → pharmacy concentration
// description: >
//   For each doctor whose prescriptions are filled at pharmacies, the
//   pharmacies that fill a large share of them. share is the pharmacy's part
//   of the doctor's pharmacy claims; lift compares it with the pharmacy's part
//   of all prescription claims at pharmacies (1 = what chance would give).
//   A doctor sending most prescriptions to one pharmacy far above its market
//   share points to 处方外流 / 内外勾结.
// tags: [doctor_pharmacy]
// mode: read
// params:
//   doctor: {type: string, default: null, example: D110105000123, description: "only this doctor (code)"}
//   min_claims: {type: int, default: 10, min: 1, example: 20, description: "the doctor has at least this many pharmacy claims"}
//   min_share: {type: float, default: 0.5, min: 0, max: 1, example: 0.6, description: "the pharmacy fills at least this share of them"}
//   since: {type: date, default: null, example: 2024-01-01, description: "claims from this day (inclusive)"}
//   until: {type: date, default: null, example: 2025-01-01, description: "claims before this day (exclusive)"}
//   limit: {type: int, default: 200, min: 1, example: 50, description: "at most this many doctor–pharmacy pairs"}
MATCH (d:Doctor)<-[:BY_DOCTOR]-(c:Claim)-[:AT_FACILITY]->(ph:Facility)
WHERE ph.kind = 'pharmacy' AND ($since IS NULL OR c.time_ts >= $since) AND ($until IS NULL OR c.time_ts < $until)
WITH d, ph, count(c) AS n, sum(c.total_amount) AS amount
WITH ph, collect({d: d, n: n, amount: amount}) AS by_doctor, sum(n) AS ph_claims
WITH collect({ph: ph, ph_claims: ph_claims, by_doctor: by_doctor}) AS market, sum(ph_claims) AS all_claims
UNWIND market AS m
UNWIND m.by_doctor AS x
WITH m.ph AS ph, toFloat(m.ph_claims) / all_claims AS market_share, x.d AS d, x.n AS n, x.amount AS amount
WHERE $doctor IS NULL OR d.code = $doctor
WITH d, collect({ph: ph, n: n, amount: amount, market_share: market_share}) AS per, toInteger(sum(n)) AS doctor_claims
WHERE doctor_claims >= $min_claims
UNWIND per AS x
WITH d, doctor_claims, size(per) AS pharmacies, x.ph AS ph, x.n AS n, x.amount AS amount,
     x.market_share AS market_share, toFloat(x.n) / doctor_claims AS share
WHERE share >= $min_share
OPTIONAL MATCH (d)-[:WORKS_AT]->(home:Facility)
WITH d, doctor_claims, pharmacies, ph, n, amount, share, market_share, collect(home.name) AS works_at
RETURN d.code AS doctor, d.name AS doctor_name, works_at, ph.code AS pharmacy, ph.name AS pharmacy_name,
       n AS claims_at_pharmacy, doctor_claims, pharmacies, round(share * 1000) / 1000.0 AS share,
       round(share / market_share * 100) / 100.0 AS lift, amount
ORDER BY share DESC, claims_at_pharmacy DESC, doctor, pharmacy
LIMIT $limit
