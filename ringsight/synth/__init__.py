"""RingSight synth."""
