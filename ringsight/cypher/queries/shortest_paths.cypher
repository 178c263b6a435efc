// name: shortest_paths
// title_zh: 两个实体之间的最短路径
// title_en: Shortest paths between two entities
// description: >
//   The shortest paths (up to max_paths of them) between two entities over
//   the claims data — cards, phones, addresses, claims, facilities, doctors,
//   terminals, operators, trace codes — ignoring detection results and case
//   work. Paths longer than max_hops (at most 8) are not searched: RingSight
//   looks for paths of 1 step, then 2, … up to max_hops, and stops at the
//   first length that has any, all within the query time limit. (The far
//   end is matched after the walk, not inside it: FalkorDB checks its time
//   limit only between rows, and a walk towards a fixed end yields none
//   until it arrives.) Entities
//   are found by key as in `neighbourhood`. Two people who both visited one
//   big hospital are 4 steps apart through it: judge a path by what it goes
//   through, not only by its length.
// tags: [exploration]
// mode: read
// deepen: max_hops
// params:
//   from_key: {type: string, example: 6217000012345678, description: "key of the first entity"}
//   from_label: {type: string, default: null, example: Card, choices: [Patient, Card, Phone, Address, Facility, Doctor, Terminal, Operator, Claim, TraceCode], description: "its label"}
//   to_key: {type: string, example: "13800138000", description: "key of the second entity"}
//   to_label: {type: string, default: null, example: Phone, choices: [Patient, Card, Phone, Address, Facility, Doctor, Terminal, Operator, Claim, TraceCode], description: "its label"}
//   max_hops: {type: int, default: 6, min: 1, max: 8, example: 4, description: "longest path reported"}
//   max_paths: {type: int, default: 20, min: 1, max: 1000, example: 5, description: "at most this many paths"}
OPTIONAL MATCH (a0:Patient {pid: $from_key}) WHERE $from_label IS NULL OR $from_label = 'Patient'
OPTIONAL MATCH (a1:Patient {person_no: $from_key}) WHERE $from_label IS NULL OR $from_label = 'Patient'
OPTIONAL MATCH (a2:Card {card_id: $from_key}) WHERE $from_label IS NULL OR $from_label = 'Card'
OPTIONAL MATCH (a3:Phone {number: $from_key}) WHERE $from_label IS NULL OR $from_label = 'Phone'
OPTIONAL MATCH (a4:Address {key: $from_key}) WHERE $from_label IS NULL OR $from_label = 'Address'
OPTIONAL MATCH (a5:Facility {code: $from_key}) WHERE $from_label IS NULL OR $from_label = 'Facility'
OPTIONAL MATCH (a6:Doctor {code: $from_key}) WHERE $from_label IS NULL OR $from_label = 'Doctor'
OPTIONAL MATCH (a7:Terminal {key: $from_key}) WHERE $from_label IS NULL OR $from_label = 'Terminal'
OPTIONAL MATCH (a8:Operator {key: $from_key}) WHERE $from_label IS NULL OR $from_label = 'Operator'
OPTIONAL MATCH (a9:Claim {claim_id: $from_key}) WHERE $from_label IS NULL OR $from_label = 'Claim'
OPTIONAL MATCH (a10:TraceCode {code: $from_key}) WHERE $from_label IS NULL OR $from_label = 'TraceCode'
WITH DISTINCT coalesce(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) AS src
WHERE src IS NOT NULL
OPTIONAL MATCH (b0:Patient {pid: $to_key}) WHERE $to_label IS NULL OR $to_label = 'Patient'
OPTIONAL MATCH (b1:Patient {person_no: $to_key}) WHERE $to_label IS NULL OR $to_label = 'Patient'
OPTIONAL MATCH (b2:Card {card_id: $to_key}) WHERE $to_label IS NULL OR $to_label = 'Card'
OPTIONAL MATCH (b3:Phone {number: $to_key}) WHERE $to_label IS NULL OR $to_label = 'Phone'
OPTIONAL MATCH (b4:Address {key: $to_key}) WHERE $to_label IS NULL OR $to_label = 'Address'
OPTIONAL MATCH (b5:Facility {code: $to_key}) WHERE $to_label IS NULL OR $to_label = 'Facility'
OPTIONAL MATCH (b6:Doctor {code: $to_key}) WHERE $to_label IS NULL OR $to_label = 'Doctor'
OPTIONAL MATCH (b7:Terminal {key: $to_key}) WHERE $to_label IS NULL OR $to_label = 'Terminal'
OPTIONAL MATCH (b8:Operator {key: $to_key}) WHERE $to_label IS NULL OR $to_label = 'Operator'
OPTIONAL MATCH (b9:Claim {claim_id: $to_key}) WHERE $to_label IS NULL OR $to_label = 'Claim'
OPTIONAL MATCH (b10:TraceCode {code: $to_key}) WHERE $to_label IS NULL OR $to_label = 'TraceCode'
WITH DISTINCT src, coalesce(b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10) AS dst
WHERE dst IS NOT NULL AND src <> dst
MATCH path = (src)-[:HAS_CARD|HAS_PHONE|CONTACT_PHONE|LIVES_AT|WORKS_AT|IN_FACILITY|BY_PATIENT|WITH_CARD|AT_FACILITY|BY_DOCTOR|ON_TERMINAL|BY_OPERATOR|HAS_TRACE*1..$max_hops]-(end)
WITH path, end, dst WHERE end = dst
WITH path, length(path) AS hops
RETURN hops, [x IN nodes(path) | labels(x)[0] + ' ' + coalesce(x.name, x.claim_id, x.card_id, x.number, x.text, x.key, x.code, x.pid, '')] AS route, path
LIMIT $max_paths
