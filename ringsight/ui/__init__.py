"""RingSight ui."""
