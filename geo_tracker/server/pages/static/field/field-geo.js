/* 外业: where the phone is against a patch, in metres on the CGCS2000 ellipsoid. A patch is a few
   hundred metres across, so a local plane around the phone (east and north metres from the
   ellipsoid's radii of curvature at its latitude) is exact to well under a metre: the same figure
   the server gets from pyproj's geodesic within the 1 m a finger can read. Coordinates are
   [lon, lat] as GeoJSON has them. */
(function () {
  'use strict';

  var A = 6378137, F = 1 / 298.257222101, E2 = F * (2 - F);   // CGCS2000 (GRS 80)
  var RAD = Math.PI / 180;
  var POINTS = ['北', '东北', '东', '东南', '南', '西南', '西', '西北'];

  // Metres per degree east and north at a latitude.
  function scale(lat) {
    var s = Math.sin(lat * RAD), w = Math.sqrt(1 - E2 * s * s);
    var n = A / w, m = A * (1 - E2) / (w * w * w);
    return { east: n * Math.cos(lat * RAD) * RAD, north: m * RAD };
  }

  function plane(origin) {
    var k = scale(origin[1]);
    return function (c) { return [(c[0] - origin[0]) * k.east, (c[1] - origin[1]) * k.north]; };
  }

  function polygonsOf(geometry) { return geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates; }

  function nearestOnSegment(p, a, b) {
    var dx = b[0] - a[0], dy = b[1] - a[1], len = dx * dx + dy * dy;
    var k = len ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len)) : 0;
    return [a[0] + k * dx, a[1] + k * dy];
  }

  // Even-odd over every ring: holes count as outside.
  function inside(p, rings) {
    var hit = false;
    rings.forEach(function (ring) {
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], b = ring[j];
        if ((a[1] > p[1]) !== (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]) hit = !hit;
      }
    });
    return hit;
  }

  /* From a place to a patch: metres to its nearest point (0 inside), the bearing to that point in
     degrees from north, and whether the place is inside. */
  function toPatch(place, geometry) {
    var local = plane(place), best = null, within = false;
    polygonsOf(geometry).forEach(function (polygon) {
      var rings = polygon.map(function (ring) { return ring.map(local); });
      if (inside([0, 0], rings)) within = true;
      rings.forEach(function (ring) {
        for (var i = 1; i < ring.length; i++) {
          var q = nearestOnSegment([0, 0], ring[i - 1], ring[i]), d = Math.hypot(q[0], q[1]);
          if (!best || d < best.d) best = { d: d, q: q };
        }
      });
    });
    if (!best) return null;
    var bearing = (Math.atan2(best.q[0], best.q[1]) / RAD + 360) % 360;
    return { metres: within ? 0 : best.d, bearing: bearing, inside: within };
  }

  function compass(bearing) { return POINTS[Math.round(bearing / 45) % 8]; }

  function ringArea(ring) {
    var sum = 0;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) sum += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    return Math.abs(sum) / 2;
  }

  // 亩 (10000/15 m²) of a ring of [lon, lat] drawn on the map, on the same local plane.
  function areaMu(ring) {
    if (ring.length < 3) return 0;
    var local = plane(ring[0]);
    return ringArea(ring.map(local)) / (10000 / 15);
  }

  /* How much of a drawn ring lies in the patch, as the phone can tell without a clipping library:
     the drawn area times the share of a grid of points over it that fall in the patch. The server
     intersects exactly (services/tracking._drawn_area) and its figure is the one recorded. */
  function areaWithinMu(ring, geometry, steps) {
    var n = steps || 60, xs = ring.map(function (c) { return c[0]; }), ys = ring.map(function (c) { return c[1]; });
    var west = Math.min.apply(null, xs), east = Math.max.apply(null, xs);
    var south = Math.min.apply(null, ys), north = Math.max.apply(null, ys);
    var drawnHits = 0, bothHits = 0, polygons = polygonsOf(geometry);
    for (var i = 0; i < n; i++) {
      for (var j = 0; j < n; j++) {
        var p = [west + (i + 0.5) * (east - west) / n, south + (j + 0.5) * (north - south) / n];
        if (!inside(p, [ring])) continue;
        drawnHits++;
        if (polygons.some(function (rings) { return inside(p, rings); })) bothHits++;
      }
    }
    return drawnHits ? areaMu(ring) * bothHits / drawnHits : 0;
  }

  window.FieldGeo = { toPatch: toPatch, compass: compass, areaMu: areaMu, areaWithinMu: areaWithinMu };
}());
