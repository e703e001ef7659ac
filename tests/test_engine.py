"""Tiled searches (serial and on a 2-worker Dask cluster) equal the untiled run."""

import numpy as np
import pytest

from hzspatial import demo_inputs, run_coverage

CATS = ("elderly_care", "clinic", "football_pitch", "kindergarten")


@pytest.fixture(scope="module")
def whole(demo_run):
    return demo_run


def _same(a, b, buffer_m=1050.0):  # largest threshold (1000 m) + 50 m
    for cat in CATS:
        col = f"cov_{cat}_15min"
        assert (a.demand[col] == b.demand[col]).all()
        assert (
            a.summary["categories"][cat]["covered_population"]
            == b.summary["categories"][cat]["covered_population"]
        )
        da, db = a.demand[f"dist_{cat}_m"].to_numpy(), b.demand[f"dist_{cat}_m"].to_numpy()
        near = da <= buffer_m
        np.testing.assert_allclose(db[near], da[near], rtol=1e-12)
        assert np.isinf(db[~near]).all() or (db[~near] > buffer_m).all()
    np.testing.assert_allclose(a.catchments["area_m2"], b.catchments["area_m2"], rtol=1e-9)
    for sid in ("elderly_land_per_resident", "football_pitches_per_10000"):
        np.testing.assert_allclose(
            a.demand[f"access_{sid}"], b.demand[f"access_{sid}"], rtol=1e-9, atol=1e-12
        )
    ra = a.ratios.set_index(["district_id", "standard"])["value"]
    rb = b.ratios.set_index(["district_id", "standard"])["value"]
    np.testing.assert_allclose(ra.to_numpy(dtype=float), rb.loc[ra.index].to_numpy(dtype=float))


def test_tiled_equals_untiled(whole):
    tiled = run_coverage(**demo_inputs(), tiles="district")
    _same(whole, tiled)


def test_tiles_on_a_dask_cluster_equal_untiled(whole):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        tiled = run_coverage(**demo_inputs(), tiles="district", submit=client.submit)
    _same(whole, tiled)
