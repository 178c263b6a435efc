// name: facilities_over_annual_fund
// title_zh: 年度基金结算超过阈值的机构（默认 500 万元）
// title_en: Facilities settling over ¥5,000,000 a year
// description: >
//   Facilities whose fund payments (统筹基金) in a calendar year exceed a
//   threshold — ¥5,000,000 by default, the line above which inspection plans
//   require a facility to be covered. One row per facility and year (the
//   year of the settlement time, Beijing time).
// tags: [planning]
// mode: read
// params:
//   year: {type: int, default: null, min: 1990, max: 2100, example: 2024, description: "only this calendar year"}
//   threshold: {type: float, default: 5000000, min: 0, example: 5000000, description: "fund paid above this many yuan"}
//   kind: {type: string, default: null, choices: [hospital, clinic, pharmacy], example: hospital, description: "only facilities of this kind"}
MATCH (c:Claim)-[:AT_FACILITY]->(f:Facility)
WHERE ($kind IS NULL OR f.kind = $kind)
WITH f, c, substring(c.time, 0, 4) AS year
WHERE $year IS NULL OR year = toString($year)
WITH f, year, count(c) AS claims, sum(coalesce(c.fund_paid, 0.0)) AS fund_paid, sum(c.total_amount) AS total_amount
WHERE fund_paid > $threshold
RETURN year, f.code AS facility, f.name AS name, f.kind AS kind, f.level AS level, f.ownership AS ownership,
       f.region AS region, claims, fund_paid, total_amount
ORDER BY year DESC, fund_paid DESC, facility
