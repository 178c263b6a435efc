// name: phones_shared_by_insured
// title_zh: 多名参保人共用电话
// title_en: Phones shared by many unrelated insured
// description: >
//   Phone numbers given by many insured persons, as their own or as the
//   emergency contact (联系人电话). Recruiters for 诱导住院 and organisers of
//   假病人 often leave one number for a whole group. Households share phones
//   too, so the rows are ranked by how unrelated the persons look: distinct
//   surnames first, then distinct addresses, then distinct birth years
//   (a family has few surnames and one address; a recruited group has many).
// tags: [ghost_patients, induced_admission, reselling]
// mode: read
// params:
//   min_persons: {type: int, default: 3, min: 2, example: 5, description: "at least this many persons on the phone"}
//   min_surnames: {type: int, default: 1, min: 1, example: 3, description: "at least this many distinct surnames (raise it to hide households)"}
//   limit: {type: int, default: 200, min: 1, example: 50, description: "at most this many phones"}
MATCH (ph:Phone)<-[:HAS_PHONE|CONTACT_PHONE]-(p:Patient)
WITH ph, collect(DISTINCT p) AS ps
WHERE size(ps) >= $min_persons
UNWIND ps AS p
OPTIONAL MATCH (ph)<-[r:HAS_PHONE|CONTACT_PHONE]-(p)
WITH ph, p, collect(DISTINCT type(r)) AS how
OPTIONAL MATCH (p)-[:LIVES_AT]->(a:Address)
WITH ph, p, how, collect(DISTINCT a.key) AS addr
WITH ph,
     count(p) AS persons,
     count(DISTINCT p.surname_group) AS surnames,
     count(DISTINCT p.birth_cohort) AS birth_years,
     min(p.birth_cohort) AS oldest_birth,
     max(p.birth_cohort) AS youngest_birth,
     count(CASE WHEN 'CONTACT_PHONE' IN how THEN 1 END) AS as_contact,
     collect(p.pid) AS names,
     collect(addr) AS addr_lists
WHERE surnames >= $min_surnames
WITH ph, persons, surnames, birth_years, oldest_birth, youngest_birth, as_contact, names,
     reduce(acc = [], xs IN addr_lists | acc + [x IN xs WHERE NOT x IN acc]) AS address_keys
RETURN ph.number AS phone, persons, surnames, size(address_keys) AS addresses, birth_years,
       oldest_birth, youngest_birth, as_contact, names
ORDER BY surnames DESC, addresses DESC, birth_years DESC, persons DESC, phone
LIMIT $limit
