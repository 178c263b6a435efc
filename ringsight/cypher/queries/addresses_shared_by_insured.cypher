// name: addresses_shared_by_insured
// title_zh: 多名参保人共用地址
// title_en: Addresses shared by many unrelated insured
// description: >
//   Addresses (by their normalised matching key) given by many insured
//   persons. Families, dormitories and nursing homes share addresses
//   legitimately, so rows are ranked by how unrelated the persons look:
//   distinct surnames first, then distinct phones, then distinct birth years.
//   A nursing home shows many surnames and old birth years; check the address
//   text before acting.
// tags: [ghost_patients, induced_admission]
// mode: read
// params:
//   min_persons: {type: int, default: 3, min: 2, example: 5, description: "at least this many persons at the address"}
//   min_surnames: {type: int, default: 1, min: 1, example: 3, description: "at least this many distinct surnames (raise it to hide households)"}
//   district: {type: string, default: null, example: 朝阳区, description: "only addresses in this district"}
//   limit: {type: int, default: 200, min: 1, example: 50, description: "at most this many addresses"}
MATCH (a:Address)<-[:LIVES_AT]-(p:Patient)
WHERE $district IS NULL OR a.district = $district
WITH a, collect(DISTINCT p) AS ps
WHERE size(ps) >= $min_persons
UNWIND ps AS p
OPTIONAL MATCH (p)-[:HAS_PHONE]->(ph:Phone)
WITH a, p, collect(DISTINCT ph.number) AS nums
WITH a,
     count(p) AS persons,
     count(DISTINCT p.surname_group) AS surnames,
     count(DISTINCT p.birth_cohort) AS birth_years,
     min(p.birth_cohort) AS oldest_birth,
     max(p.birth_cohort) AS youngest_birth,
     collect(p.pid) AS names,
     collect(nums) AS num_lists
WHERE surnames >= $min_surnames
WITH a, persons, surnames, birth_years, oldest_birth, youngest_birth, names,
     reduce(acc = [], xs IN num_lists | acc + [x IN xs WHERE NOT x IN acc]) AS phones
RETURN a.key AS address_key, a.key AS address, a.district AS district, persons, surnames,
       size(phones) AS phones, birth_years, oldest_birth, youngest_birth, names
ORDER BY surnames DESC, phones DESC, birth_years DESC, persons DESC, address_key
LIMIT $limit
