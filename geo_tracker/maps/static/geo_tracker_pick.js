/* Which patch a finger meant: pixels from a tap to a patch's outline on a Leaflet map. One piece
 * for the online map (/map) and the field app (/field), so a tap picks the same patch in both. */
(function () {
  "use strict";

  function segmentDistance(p, a, b) {
    var dx = b.x - a.x, dy = b.y - a.y, len = dx * dx + dy * dy;
    var k = len ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len)) : 0;
    return Math.hypot(p.x - (a.x + k * dx), p.y - (a.y + k * dy));
  }

  // Pixels from the point to the outline, 0 inside it (even-odd over every ring).
  function distanceTo(map, point, rings) {
    var inside = false, best = Infinity;
    rings.forEach(function (ring) {
      var pts = ring.map(function (ll) { return map.latLngToContainerPoint(ll); });
      for (var i = 0, j = pts.length - 1; i < pts.length; j = i++) {
        var a = pts[i], b = pts[j];
        if ((a.y > point.y) !== (b.y > point.y) && point.x < (b.x - a.x) * (point.y - a.y) / (b.y - a.y) + a.x) inside = !inside;
        best = Math.min(best, segmentDistance(point, a, b));
      }
    });
    return inside ? 0 : best;
  }

  function pixelBox(map, bounds) {
    return L.bounds(map.latLngToContainerPoint(bounds.getNorthWest()), map.latLngToContainerPoint(bounds.getSouthEast()));
  }

  window.GeoTrackerPick = { distanceTo: distanceTo, pixelBox: pixelBox };
})();
