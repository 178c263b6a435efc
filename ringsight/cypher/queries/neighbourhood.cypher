// name: neighbourhood
// title_zh: 实体的 k 跳邻域（每种关系限量）
// title_en: k-hop neighbourhood of an entity (capped per relationship type)
// description: >
//   The relationships around any entity up to `hops` steps away — what the
//   canvas shows when an investigator expands a node. From each node at most
//   `cap` neighbours per relationship type are followed (the most recent
//   claims first), so a hub such as a hospital with a million claims does not
//   flood the answer; type_total says how many there were before the cap.
//   One row per relationship: hop (0 = the entity itself), source, rel,
//   target. The entity is found by its key: pid or person number, card,
//   phone, address key, facility or doctor code, terminal or operator key,
//   claim id, trace code, cluster id or case id; give label when a key could
//   belong to two labels.
// tags: [exploration]
// mode: read
// params:
//   key: {type: string, example: P11010500001, description: "the entity's key"}
//   label: {type: string, default: null, example: Facility, choices: [Patient, Card, Phone, Address, Facility, Doctor, Terminal, Operator, Claim, TraceCode, Cluster, Case], description: "the entity's label"}
//   hops: {type: int, default: 1, min: 1, max: 3, example: 2, description: "how many steps out"}
//   cap: {type: int, default: 25, min: 1, max: 1000, example: 10, description: "at most this many neighbours per relationship type from each node"}
OPTIONAL MATCH (a0:Patient {pid: $key}) WHERE $label IS NULL OR $label = 'Patient'
OPTIONAL MATCH (a1:Patient {person_no: $key}) WHERE $label IS NULL OR $label = 'Patient'
OPTIONAL MATCH (a2:Card {card_id: $key}) WHERE $label IS NULL OR $label = 'Card'
OPTIONAL MATCH (a3:Phone {number: $key}) WHERE $label IS NULL OR $label = 'Phone'
OPTIONAL MATCH (a4:Address {key: $key}) WHERE $label IS NULL OR $label = 'Address'
OPTIONAL MATCH (a5:Facility {code: $key}) WHERE $label IS NULL OR $label = 'Facility'
OPTIONAL MATCH (a6:Doctor {code: $key}) WHERE $label IS NULL OR $label = 'Doctor'
OPTIONAL MATCH (a7:Terminal {key: $key}) WHERE $label IS NULL OR $label = 'Terminal'
OPTIONAL MATCH (a8:Operator {key: $key}) WHERE $label IS NULL OR $label = 'Operator'
OPTIONAL MATCH (a9:Claim {claim_id: $key}) WHERE $label IS NULL OR $label = 'Claim'
OPTIONAL MATCH (a10:TraceCode {code: $key}) WHERE $label IS NULL OR $label = 'TraceCode'
OPTIONAL MATCH (a11:Cluster {cluster_id: $key}) WHERE $label IS NULL OR $label = 'Cluster'
OPTIONAL MATCH (a12:Case {case_id: $key}) WHERE $label IS NULL OR $label = 'Case'
WITH DISTINCT coalesce(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) AS n
WHERE n IS NOT NULL
RETURN 0 AS hop, n AS source, null AS rel, null AS target, null AS rel_type, null AS type_total
UNION ALL
OPTIONAL MATCH (a0:Patient {pid: $key}) WHERE $label IS NULL OR $label = 'Patient'
OPTIONAL MATCH (a1:Patient {person_no: $key}) WHERE $label IS NULL OR $label = 'Patient'
OPTIONAL MATCH (a2:Card {card_id: $key}) WHERE $label IS NULL OR $label = 'Card'
OPTIONAL MATCH (a3:Phone {number: $key}) WHERE $label IS NULL OR $label = 'Phone'
OPTIONAL MATCH (a4:Address {key: $key}) WHERE $label IS NULL OR $label = 'Address'
OPTIONAL MATCH (a5:Facility {code: $key}) WHERE $label IS NULL OR $label = 'Facility'
OPTIONAL MATCH (a6:Doctor {code: $key}) WHERE $label IS NULL OR $label = 'Doctor'
OPTIONAL MATCH (a7:Terminal {key: $key}) WHERE $label IS NULL OR $label = 'Terminal'
OPTIONAL MATCH (a8:Operator {key: $key}) WHERE $label IS NULL OR $label = 'Operator'
OPTIONAL MATCH (a9:Claim {claim_id: $key}) WHERE $label IS NULL OR $label = 'Claim'
OPTIONAL MATCH (a10:TraceCode {code: $key}) WHERE $label IS NULL OR $label = 'TraceCode'
OPTIONAL MATCH (a11:Cluster {cluster_id: $key}) WHERE $label IS NULL OR $label = 'Cluster'
OPTIONAL MATCH (a12:Case {case_id: $key}) WHERE $label IS NULL OR $label = 'Case'
WITH DISTINCT coalesce(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) AS n
WHERE n IS NOT NULL
WITH n AS x
MATCH (x)-[r]-(m)
WITH x, r, m ORDER BY coalesce(m.time_ts, 0) DESC, coalesce(m.claim_id, m.pid, m.card_id, m.number, m.key, m.code, m.cluster_id, m.case_id, m.run_id, m.annotation_id, m.sanction_id, m.username, m.audit_id, '')
WITH x, type(r) AS rel_type, collect([r, m]) AS pairs
UNWIND pairs[0..$cap] AS pair
RETURN 1 AS hop, x AS source, pair[0] AS rel, pair[1] AS target, rel_type, size(pairs) AS type_total
UNION ALL
OPTIONAL MATCH (a0:Patient {pid: $key}) WHERE $label IS NULL OR $label = 'Patient'
OPTIONAL MATCH (a1:Patient {person_no: $key}) WHERE $label IS NULL OR $label = 'Patient'
OPTIONAL MATCH (a2:Card {card_id: $key}) WHERE $label IS NULL OR $label = 'Card'
OPTIONAL MATCH (a3:Phone {number: $key}) WHERE $label IS NULL OR $label = 'Phone'
OPTIONAL MATCH (a4:Address {key: $key}) WHERE $label IS NULL OR $label = 'Address'
OPTIONAL MATCH (a5:Facility {code: $key}) WHERE $label IS NULL OR $label = 'Facility'
OPTIONAL MATCH (a6:Doctor {code: $key}) WHERE $label IS NULL OR $label = 'Doctor'
OPTIONAL MATCH (a7:Terminal {key: $key}) WHERE $label IS NULL OR $label = 'Terminal'
OPTIONAL MATCH (a8:Operator {key: $key}) WHERE $label IS NULL OR $label = 'Operator'
OPTIONAL MATCH (a9:Claim {claim_id: $key}) WHERE $label IS NULL OR $label = 'Claim'
OPTIONAL MATCH (a10:TraceCode {code: $key}) WHERE $label IS NULL OR $label = 'TraceCode'
OPTIONAL MATCH (a11:Cluster {cluster_id: $key}) WHERE $label IS NULL OR $label = 'Cluster'
OPTIONAL MATCH (a12:Case {case_id: $key}) WHERE $label IS NULL OR $label = 'Case'
WITH DISTINCT coalesce(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) AS n
WHERE n IS NOT NULL
WITH n WHERE $hops >= 2
UNWIND [n] AS x
MATCH (x)-[r]-(m)
WITH n, x, r, m ORDER BY coalesce(m.time_ts, 0) DESC, coalesce(m.claim_id, m.pid, m.card_id, m.number, m.key, m.code, m.cluster_id, m.case_id, m.run_id, m.annotation_id, m.sanction_id, m.username, m.audit_id, '')
WITH n, x, type(r) AS t, collect(m) AS ms
UNWIND ms[0..$cap] AS m
WITH n, collect(DISTINCT m) AS f1
UNWIND f1 AS x
MATCH (x)-[r]-(m)
WHERE m <> n AND NOT m IN f1
WITH x, r, m ORDER BY coalesce(m.time_ts, 0) DESC, coalesce(m.claim_id, m.pid, m.card_id, m.number, m.key, m.code, m.cluster_id, m.case_id, m.run_id, m.annotation_id, m.sanction_id, m.username, m.audit_id, '')
WITH x, type(r) AS rel_type, collect([r, m]) AS pairs
UNWIND pairs[0..$cap] AS pair
RETURN 2 AS hop, x AS source, pair[0] AS rel, pair[1] AS target, rel_type, size(pairs) AS type_total
UNION ALL
OPTIONAL MATCH (a0:Patient {pid: $key}) WHERE $label IS NULL OR $label = 'Patient'
OPTIONAL MATCH (a1:Patient {person_no: $key}) WHERE $label IS NULL OR $label = 'Patient'
OPTIONAL MATCH (a2:Card {card_id: $key}) WHERE $label IS NULL OR $label = 'Card'
OPTIONAL MATCH (a3:Phone {number: $key}) WHERE $label IS NULL OR $label = 'Phone'
OPTIONAL MATCH (a4:Address {key: $key}) WHERE $label IS NULL OR $label = 'Address'
OPTIONAL MATCH (a5:Facility {code: $key}) WHERE $label IS NULL OR $label = 'Facility'
OPTIONAL MATCH (a6:Doctor {code: $key}) WHERE $label IS NULL OR $label = 'Doctor'
OPTIONAL MATCH (a7:Terminal {key: $key}) WHERE $label IS NULL OR $label = 'Terminal'
OPTIONAL MATCH (a8:Operator {key: $key}) WHERE $label IS NULL OR $label = 'Operator'
OPTIONAL MATCH (a9:Claim {claim_id: $key}) WHERE $label IS NULL OR $label = 'Claim'
OPTIONAL MATCH (a10:TraceCode {code: $key}) WHERE $label IS NULL OR $label = 'TraceCode'
OPTIONAL MATCH (a11:Cluster {cluster_id: $key}) WHERE $label IS NULL OR $label = 'Cluster'
OPTIONAL MATCH (a12:Case {case_id: $key}) WHERE $label IS NULL OR $label = 'Case'
WITH DISTINCT coalesce(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) AS n
WHERE n IS NOT NULL
WITH n WHERE $hops >= 3
UNWIND [n] AS x
MATCH (x)-[r]-(m)
WITH n, x, r, m ORDER BY coalesce(m.time_ts, 0) DESC, coalesce(m.claim_id, m.pid, m.card_id, m.number, m.key, m.code, m.cluster_id, m.case_id, m.run_id, m.annotation_id, m.sanction_id, m.username, m.audit_id, '')
WITH n, x, type(r) AS t, collect(m) AS ms
UNWIND ms[0..$cap] AS m
WITH n, collect(DISTINCT m) AS f1
UNWIND f1 AS x
MATCH (x)-[r]-(m)
WHERE m <> n AND NOT m IN f1
WITH n, f1, x, r, m ORDER BY coalesce(m.time_ts, 0) DESC, coalesce(m.claim_id, m.pid, m.card_id, m.number, m.key, m.code, m.cluster_id, m.case_id, m.run_id, m.annotation_id, m.sanction_id, m.username, m.audit_id, '')
WITH n, f1, x, type(r) AS t, collect(m) AS ms
UNWIND ms[0..$cap] AS m
WITH n, f1, collect(DISTINCT m) AS f2
UNWIND f2 AS x
MATCH (x)-[r]-(m)
WHERE m <> n AND NOT m IN f1 AND NOT m IN f2
WITH x, r, m ORDER BY coalesce(m.time_ts, 0) DESC, coalesce(m.claim_id, m.pid, m.card_id, m.number, m.key, m.code, m.cluster_id, m.case_id, m.run_id, m.annotation_id, m.sanction_id, m.username, m.audit_id, '')
WITH x, type(r) AS rel_type, collect([r, m]) AS pairs
UNWIND pairs[0..$cap] AS pair
RETURN 3 AS hop, x AS source, pair[0] AS rel, pair[1] AS target, rel_type, size(pairs) AS type_total
