"""Coordinate conversions against independent implementations (prcoords, eviltransform)."""

import numpy as np
import pytest
import shapely

prcoords = pytest.importorskip("prcoords")
eviltransform = pytest.importorskip("eviltransform")

from hzspatial import crs  # noqa: E402
from hzspatial.errors import InputError  # noqa: E402

RNG = np.random.default_rng(20201101)
N = 3000
LON = RNG.uniform(74.0, 134.0, N)
LAT = RNG.uniform(18.0, 53.0, N)


def _ref(fn, lon, lat):
    out = [fn(prcoords.Coords(la, lo)) for lo, la in zip(lon, lat, strict=True)]
    return np.array([c.lon for c in out]), np.array([c.lat for c in out])


def test_wgs_to_gcj_matches_prcoords():
    glon, glat = crs.wgs84_to_gcj02(LON, LAT)
    rlon, rlat = _ref(prcoords.wgs_gcj, LON, LAT)
    assert crs.haversine_m(glon, glat, rlon, rlat).max() < 0.01


def test_wgs_to_gcj_matches_eviltransform():
    glon, glat = crs.wgs84_to_gcj02(LON[:500], LAT[:500])
    ref = np.array(
        [eviltransform.wgs2gcj(la, lo) for lo, la in zip(LON[:500], LAT[:500], strict=False)]
    )
    # eviltransform rounds its constants slightly differently: centimetre-level agreement.
    assert crs.haversine_m(glon, glat, ref[:, 1], ref[:, 0]).max() < 0.05


def test_gcj_to_bd_matches_prcoords():
    blon, blat = crs.gcj02_to_bd09(LON, LAT)
    rlon, rlat = _ref(prcoords.gcj_bd, LON, LAT)
    assert crs.haversine_m(blon, blat, rlon, rlat).max() < 0.01


def test_shift_is_hundreds_of_metres():
    glon, glat = crs.wgs84_to_gcj02(LON, LAT)
    shift = crs.haversine_m(LON, LAT, glon, glat)
    assert shift.min() > 1 and shift.max() < 1500


@pytest.mark.parametrize(
    ("fwd", "inv"),
    [
        (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
        (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
        (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
    ],
)
def test_round_trip_below_half_metre(fwd, inv):
    lon2, lat2 = inv(*fwd(LON, LAT))
    assert crs.haversine_m(LON, LAT, lon2, lat2).max() < 0.5


def test_inverse_agrees_with_prcoords_precise_inverse():
    glon, glat = crs.wgs84_to_gcj02(LON, LAT)
    wlon, wlat = crs.gcj02_to_wgs84(glon, glat)
    ref = [
        prcoords.gcj_wgs_bored(prcoords.Coords(la, lo)) for lo, la in zip(glon, glat, strict=False)
    ]
    rlon = np.array([c.lon for c in ref])
    rlat = np.array([c.lat for c in ref])
    assert crs.haversine_m(wlon, wlat, rlon, rlat).max() < 0.5


def test_outside_china_unchanged():
    lon = np.array([2.35, -74.0, 151.2, 24.94, 60.0])
    lat = np.array([48.85, 40.7, -33.9, 60.17, 60.0])
    for fn in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.wgs84_to_bd09, crs.bd09_to_wgs84):
        x, y = fn(lon, lat)
        np.testing.assert_array_equal(x, lon)
        np.testing.assert_array_equal(y, lat)


def test_parse_crs_in_names_and_epsg():
    assert crs.parse_crs_in("CGCS2000") == "wgs84"
    assert crs.parse_crs_in("GCJ-02") == "gcj02"
    assert crs.parse_crs_in("bd09") == "bd09"
    assert crs.parse_crs_in(4490) == "wgs84"
    assert crs.parse_crs_in("EPSG:4545").to_epsg() == 4545
    with pytest.raises(InputError, match="unknown coordinate system"):
        crs.parse_crs_in("marsgrid")


def test_cgcs2000_gauss_kruger_to_wgs84():
    # EPSG:4545 = CGCS2000 / 3-degree Gauss-Kruger CM 108E; Hanzhong lies in it.
    x, y = crs.from_wgs84(107.03, 33.07, 4545)
    assert 300_000 < float(x) < 500_000  # false easting 500 km, 108 °E central meridian
    lon, lat = crs.to_wgs84(x, y, "EPSG:4545")
    assert crs.haversine_m(107.03, 33.07, lon, lat) < 0.01


def test_geometries_converted_vectorised():
    pts = shapely.points([107.03, 107.04], [33.07, 33.08])
    gcj = crs.geometries_from_wgs84(pts, "gcj02")
    back = crs.geometries_to_wgs84(gcj, "gcj02")
    assert shapely.distance(pts, back).max() < 1e-8
    assert shapely.distance(pts, gcj).min() > 1e-4


def test_metric_crs_for_hanzhong():
    assert crs.metric_crs([106.9, 107.2], [33.0, 33.2]).to_epsg() == 32648
