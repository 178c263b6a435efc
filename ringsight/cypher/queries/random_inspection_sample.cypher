// name: random_inspection_sample
// title_zh: “双随机”抽查机构名单
// title_en: Random sample of facilities for 双随机 inspections
// description: >
//   A reproducible random sample of facilities for "双随机、一公开" spot
//   checks: within each stratum (by kind, region, level, ownership, or
//   kind and region together) RingSight keeps ceil(fraction × n) facilities,
//   at least 10%. The draw is computed by RingSight after the query, not in
//   Cypher: facilities are ranked by SHA-256 of "<seed>:<facility code>" and
//   the first ones are drawn, so the same seed always gives the same list on
//   any store, and anyone with the seed can check it (e.g. in Python:
//   hashlib.sha256(f"{seed}:{code}".encode()).hexdigest()). Publish the seed
//   with the plan. active_since limits the population to facilities with
//   claims since that day.
// tags: [planning]
// mode: read
// sample: {key: facility, stratum: stratum, fraction: fraction, seed: seed}
// params:
//   seed: {type: string, example: 2025-Q1-朝阳, description: "the published seed of this draw"}
//   fraction: {type: float, default: 0.1, min: 0.1, max: 1, example: 0.15, description: "share drawn from each stratum (at least 0.1)"}
//   stratify_by: {type: string, default: kind, choices: [kind, region, level, ownership, kind_region, none], example: kind_region, description: "how to form strata"}
//   kind: {type: string, default: null, choices: [hospital, clinic, pharmacy], example: pharmacy, description: "only facilities of this kind"}
//   region: {type: string, default: null, example: "110105", description: "only facilities whose region code starts with this"}
//   ownership: {type: string, default: null, choices: [public, private], example: private, description: "only public or private facilities"}
//   active_since: {type: date, default: null, example: 2024-01-01, description: "only facilities with claims since this day"}
MATCH (f:Facility)
WHERE ($kind IS NULL OR f.kind = $kind) AND ($region IS NULL OR f.region STARTS WITH $region)
  AND ($ownership IS NULL OR f.ownership = $ownership)
WITH f, CASE WHEN $active_since IS NULL THEN 1
             ELSE size([(f)<-[:AT_FACILITY]-(c:Claim) WHERE c.time_ts >= $active_since | 1]) END AS active
WHERE active > 0
RETURN f.code AS facility, f.name AS name, f.kind AS kind, f.level AS level, f.ownership AS ownership,
       f.region AS region,
       CASE $stratify_by
         WHEN 'kind' THEN coalesce(f.kind, '?')
         WHEN 'region' THEN coalesce(f.region, '?')
         WHEN 'level' THEN coalesce(f.level, '?')
         WHEN 'ownership' THEN coalesce(f.ownership, '?')
         WHEN 'kind_region' THEN coalesce(f.kind, '?') + '/' + coalesce(f.region, '?')
         ELSE 'all'
       END AS stratum
ORDER BY stratum, facility
