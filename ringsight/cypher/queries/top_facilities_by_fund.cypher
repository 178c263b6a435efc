// name: top_facilities_by_fund
// title_zh: 基金支付排名前列的机构（检查计划“前30名”）
// title_en: Top facilities by fund paid in a period
// description: >
//   Facilities ranked by the fund (统筹基金) paid to them in a period — the
//   "top 30" that inspection plans single out for on-site checks. fund_share
//   is the facility's part of all fund paid to the facilities in scope.
// tags: [planning]
// mode: read
// params:
//   since: {type: date, example: 2024-01-01, description: "claims from this day (inclusive)"}
//   until: {type: date, example: 2025-01-01, description: "claims before this day (exclusive)"}
//   limit: {type: int, default: 30, min: 1, example: 30, description: "how many facilities"}
//   kind: {type: string, default: null, choices: [hospital, clinic, pharmacy], example: hospital, description: "only facilities of this kind"}
//   region: {type: string, default: null, example: "1101", description: "only facilities whose region code starts with this"}
MATCH (c:Claim)-[:AT_FACILITY]->(f:Facility)
WHERE c.time_ts >= $since AND c.time_ts < $until
  AND ($kind IS NULL OR f.kind = $kind) AND ($region IS NULL OR f.region STARTS WITH $region)
WITH f, count(c) AS claims, sum(coalesce(c.fund_paid, 0.0)) AS fund_paid, sum(c.total_amount) AS total_amount
WITH collect({f: f, claims: claims, fund: fund_paid, total: total_amount}) AS all_rows, sum(fund_paid) AS all_fund
UNWIND all_rows AS row
WITH row, all_fund
ORDER BY row.fund DESC, row.f.code
LIMIT $limit
WITH collect(row) AS top, all_fund
UNWIND range(0, size(top) - 1) AS i
WITH i + 1 AS rank, top[i] AS row, all_fund
WITH rank, row.f AS f, row.claims AS claims, row.fund AS fund_paid, row.total AS total_amount, all_fund
RETURN rank, f.code AS facility, f.name AS name, f.kind AS kind, f.level AS level, f.ownership AS ownership,
       f.region AS region, claims, fund_paid, total_amount,
       CASE WHEN all_fund > 0 THEN round(fund_paid / all_fund * 10000) / 10000.0 ELSE null END AS fund_share
ORDER BY rank
