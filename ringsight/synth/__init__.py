"""Synthetic medical-insurance claims with planted fraud rings, legitimate look-alikes and ground truth.

``generate(SynthConfig(claims=..., seed=...), out_dir)`` writes canonical
claims files (spec/claims-format.md), ``ground_truth.json`` and, in dirty
mode, the list of rows a loader must reject. Same configuration, same bytes.
"""

from ringsight.synth.config import TYPOLOGIES, RingKnobs, SynthConfig
from ringsight.synth.generator import SynthResult, generate

__all__ = ["TYPOLOGIES", "RingKnobs", "SynthConfig", "SynthResult", "generate"]
