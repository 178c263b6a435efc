"""RingSight cypher."""
