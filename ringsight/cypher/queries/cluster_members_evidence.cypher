// name: cluster_members_evidence
// title_zh: 团伙成员及证据
// title_en: A cluster's members and evidence
// description: >
//   The members of one suspect cluster (as of the latest detection run that
//   found it) with the evidence that ties them: direct_links counts the
//   member's relationships to other members (a shared card, phone, address);
//   linking_claims are the claims joining the member to another member
//   (a patient's claims at a member facility), with their amount and dates.
//   The cluster's score, typologies, explanation and signals (JSON text with
//   evidence in Chinese and English) repeat on every row.
// tags: [exploration]
// mode: read
// params:
//   cluster: {type: string, example: C000123, description: "the cluster id"}
MATCH (cl:Cluster {cluster_id: $cluster})-[hm:HAS_MEMBER]->(e)
WHERE hm.run_id IS NULL OR hm.run_id = cl.run_id
WITH cl, collect(e) AS members, collect({e: e, role: hm.role, weight: hm.weight}) AS rows
UNWIND rows AS row
WITH cl, members, row.e AS e, row.role AS role, row.weight AS weight
OPTIONAL MATCH (e)-[direct]-(o)
WHERE o IN members AND o <> e
WITH cl, members, e, role, weight, count(DISTINCT o) AS direct_links
OPTIONAL MATCH (e)<-[]-(c:Claim)-[]->(o2)
WHERE o2 IN members AND o2 <> e
WITH cl, e, role, weight, direct_links, collect(DISTINCT c) AS claims
RETURN cl.cluster_id AS cluster, cl.score AS score, labels(e)[0] AS label,
       coalesce(e.pid, e.card_id, e.number, e.key, e.code) AS key, coalesce(e.name, e.text) AS name,
       role, weight, direct_links, size(claims) AS linking_claims,
       reduce(s = 0.0, x IN claims | s + coalesce(x.total_amount, 0.0)) AS linking_amount,
       reduce(lo = null, x IN claims | CASE WHEN lo IS NULL OR x.time < lo THEN x.time ELSE lo END) AS first_time,
       reduce(hi = null, x IN claims | CASE WHEN hi IS NULL OR x.time > hi THEN x.time ELSE hi END) AS last_time,
       cl.typologies AS typologies, cl.explanation_zh AS explanation_zh, cl.explanation_en AS explanation_en,
       cl.signals AS signals
ORDER BY weight DESC, linking_claims DESC, label, key
