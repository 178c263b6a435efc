// name: tag_facility
// title_zh: 给机构加标签（如重点监控）
// title_en: Tag a facility (e.g. watch list)
// description: >
//   Puts a tag annotation on a facility — e.g. 重点监控 (watch list) after a
//   query found it — so it shows on the canvas and in the facility's
//   annotations. A write query: it runs only with --allow-write and is
//   recorded in the audit trail. Tagging the same facility with the same tag
//   again changes nothing (the annotation id is built from both). The tag
//   must be one of the tag vocabulary (setting cases.tags), as in the
//   workbench.
// tags: [annotation]
// mode: write
// params:
//   facility: {type: string, example: P11010500001, description: "facility code"}
//   tag: {type: tag, example: 重点监控, description: "the tag, from the tag vocabulary (cases.tags)"}
//   note: {type: string, default: "", example: 突击刷卡 2024-05-10, description: "a short note"}
MATCH (f:Facility {code: $facility})
MERGE (a:Annotation {annotation_id: 'tag:Facility:' + $facility + ':' + $tag})
ON CREATE SET a.kind = 'tag', a.tag = $tag, a.text = $note, a.author = $user, a.created_ts = $now_ts,
              a.target_label = 'Facility', a.target_key = $facility
MERGE (a)-[:ABOUT]->(f)
RETURN a.annotation_id AS annotation_id, f.code AS facility, a.tag AS tag, a.author AS author
