"""Generate a synthetic claims data set: world, planted rings and look-alikes, background blocks, ground truth.

Order of work: build the fixed tables (facilities, population), plant the
rings and look-alikes (they may change people's phones and addresses, which
the background then uses too), render the planted claims once, plan the
background blocks from the remaining claim count, and for each block generate
the background, merge in the planted claims of its days, sort by settlement
time and append to the files. Memory holds the fixed tables, the planted
claims and one block.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ringsight.errors import InputError
from ringsight.synth.background import background_block, background_model, day_weights, plan_blocks
from ringsight.synth.claims import OUTPATIENT, PHARMACY_VISIT, RING_TRACE_BLOCK, World, make_world, render
from ringsight.synth.config import TYPOLOGIES, SynthConfig
from ringsight.synth.facilities import PHARMACY, build_facilities
from ringsight.synth.ground_truth import write_ground_truth
from ringsight.synth.ids import rng_for
from ringsight.synth.lookalikes import plant_lookalikes
from ringsight.synth.planter import Planter, Ring
from ringsight.synth.population import build_population
from ringsight.synth.presence import Presence
from ringsight.synth.renderings import HELD_BACK, RENDERINGS
from ringsight.synth.rings import CORE, PLANTERS
from ringsight.synth.vocab import CITIES


@dataclass
class SynthResult:
    """Where the files went and how much was written."""

    claims_path: Path
    items_path: Path | None
    ground_truth_path: Path
    dirty_rows_path: Path | None
    n_claims: int
    n_items: int
    n_rings: int = 0
    n_planted_claims: int = 0
    dirty_variants_path: Path | None = None


def _reserve(config: SynthConfig) -> int:
    knobs = config.knobs("ghost_patients")
    per = 3 * max(10, knobs.size) if config.all_renderings() else knobs.size
    return knobs.count * per


def plant_rings(p: Planter, config: SynthConfig) -> list[Ring]:
    """Plant every typology's rings with its knobs; ring IDs run RING001, RING002, … in planting order."""
    rings: list[Ring] = []
    for typology in TYPOLOGIES:
        knobs = config.knobs(typology)
        renderings = RENDERINGS[typology] if config.all_renderings() else {"base": PLANTERS[typology]}
        for name, planter in renderings.items():
            for _ in range(knobs.count):
                ring = Ring(f"RING{len(rings) + 1:03d}", typology, core=list(CORE[typology]))
                ring.rendering, ring.held_back = name, (typology, name) in HELD_BACK
                planter(p, knobs, ring)
                rings.append(ring)
    return rings


def plant_coverage(p: Planter) -> None:
    """One ordinary claim at every facility, so no facility is without claims however small the run."""
    world = p.world
    fac, pop = world.facilities, world.population
    n_bg = len(pop.age) - len(pop.reserved)
    n = len(fac.kind)
    person = p.rng.integers(0, n_bg, n)
    for d in np.unique(fac.district):  # someone from the facility's own district
        here = np.flatnonzero(fac.district == d)
        local = np.flatnonzero(pop.district[:n_bg] == d)
        if len(local):
            person[here] = p.rng.choice(local, size=len(here))
    visit = np.where(fac.kind == PHARMACY, PHARMACY_VISIT, OUTPATIENT)
    diag = np.where(pop.chronic_diag[person] >= 0, pop.chronic_diag[person], 0)
    days = p.rng.integers(0, p.days, n)
    p.add(
        None,
        ts=p.at(days, p.rng.integers(9 * 3_600, 17 * 3_600, n)),
        visit=visit,
        person=person,
        facility=np.arange(n),
        diag=diag,
    )


def build_world(config: SynthConfig) -> World:
    """Facilities and population for a configuration."""
    city = CITIES[config.city]
    facilities = build_facilities(config.claims, city, rng_for(config.seed, "facilities"))
    population = build_population(
        config.claims, _reserve(config), city, config.start, facilities, rng_for(config.seed, "population")
    )
    return make_world(city, facilities, population, config.start, config.days, config.seed)


def plant(world: World, config: SynthConfig) -> tuple[Planter, list[Ring], list[Ring]]:
    """Plant rings, look-alikes and coverage claims into a world."""
    planter = Planter(world, rng_for(config.seed, "rings"))
    try:
        rings = plant_rings(planter, config)
        planter.rng = rng_for(config.seed, "lookalikes")
        lookalikes = plant_lookalikes(planter, config.claims) if config.lookalikes else []
    except ValueError as exc:
        raise InputError(
            f"Cannot plant the requested rings: {exc}.", hint="Generate more claims or ask for fewer or smaller rings."
        ) from exc
    planter.rng = rng_for(config.seed, "coverage")
    plant_coverage(planter)
    return planter, rings, lookalikes


def _block_of_day(blocks: list, days: int) -> np.ndarray:
    out = np.zeros(days, np.int64)
    for b in reversed(blocks):  # the first sub-block of a split day wins
        out[b.days] = b.uid
    return out


def generate(
    config: SynthConfig, out_dir: Path, progress: bool = False, on_block: Callable[[int, int], None] | None = None
) -> SynthResult:
    """Write claims, items, ground truth (and dirt logs) for ``config`` into ``out_dir``.

    ``on_block(claims_done, claims_total)`` is called after each block (the CLI's
    progress bar); ``progress=True`` shows a Rich bar without it.
    """
    from ringsight.synth.writer import Writer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(config)
    planter, rings, lookalikes = plant(world, config)
    spec, item_spec = planter.spec()
    planted, planted_items = render(spec, item_spec, world, RING_TRACE_BLOCK + 1, rng_for(config.seed, "rings", 1))
    n_background = config.claims - planted.height
    if n_background < config.claims * 0.3:
        raise InputError(
            f"The planted rings need {planted.height} claims, too many for {config.claims} claims in total.",
            hint="Generate more claims or ask for fewer or smaller rings.",
        )
    exempt = np.array([r for ring in rings if ring.typology == "bed_holding" for r in ring.claim_rows], np.int64)
    model = background_model(world, Presence.build(len(world.population.age), spec, exempt))
    day_rng = rng_for(config.seed, "days")
    blocks = plan_blocks(n_background, day_weights(world, day_rng), config.block_claims, day_rng)
    planted_block = _block_of_day(blocks, config.days)[spec["day"].to_numpy()]
    planted = planted.with_columns(_block=pl.Series(planted_block))
    planted_items = planted_items.with_columns(_block=pl.Series(planted_block[item_spec["row"].to_numpy()]))

    writer = Writer(out_dir, config)
    n_items = 0
    bar = _progress(config.claims) if progress and on_block is None else None
    # one writer thread: block k is written (Polars releases the GIL) while block k+1 is generated
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="synth-writer")
    pending: Future[None] | None = None
    try:
        done = 0
        for block in blocks:
            bspec, bitems = background_block(model, block, rng_for(config.seed, "background", block.uid))
            claims, items = render(bspec, bitems, world, block.uid, rng_for(config.seed, "background", block.uid, 1))
            extra = planted.filter(pl.col("_block") == block.uid).drop("_block")
            extra_items = planted_items.filter(pl.col("_block") == block.uid).drop("_block")
            claims = pl.concat([claims, extra]).sort(["claim_time", "claim_id"])
            items = pl.concat([items, extra_items])
            dirty_rng = rng_for(config.seed, "dirty", block.uid) if config.dirty_rate > 0 else None
            if pending is not None:
                pending.result()
            pending = pool.submit(writer.write, claims, items, dirty_rng)
            n_items += items.height
            done += claims.height
            if on_block is not None:
                on_block(done, config.claims)
            if bar is not None:
                bar[0].update(bar[1], completed=done)
        if pending is not None:
            pending.result()
    finally:
        pool.shutdown(wait=True)
        writer.close()
        if bar is not None:
            bar[0].stop()
    gt_path = out_dir / "ground_truth.json"
    write_ground_truth(gt_path, config, rings, lookalikes, world, planted)
    return SynthResult(
        claims_path=writer.claims.path,
        items_path=writer.items.path if writer.items else None,
        ground_truth_path=gt_path,
        dirty_rows_path=writer.dirty_rows_path,
        n_claims=writer.claims.rows,
        n_items=writer.items.rows if writer.items else 0,
        n_rings=len(rings),
        n_planted_claims=planted.height,
        dirty_variants_path=writer.variants_path,
    )


def _progress(total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    task = bar.add_task("claims", total=total)
    bar.start()
    return bar, task
