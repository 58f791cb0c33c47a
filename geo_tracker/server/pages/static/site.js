/* geo_tracker pages: sortable tables and the small patch map. No framework, no network beyond this server. */
(function () {
  "use strict";
  function cellValue(td) {
    var raw = td.getAttribute("data-value");
    var text = raw !== null ? raw : td.textContent.trim();
    var n = parseFloat(text.replace(/[,%]/g, ""));
    return isNaN(n) || /[^\d.,%\-\s]/.test(text) ? text : n;
  }
  function sortBy(th) {
    var table = th.closest("table"), body = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.children, function (o) { o.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return !r.classList.contains("total"); });
    var totals = Array.prototype.slice.call(body.rows).filter(function (r) { return r.classList.contains("total"); });
    rows.sort(function (a, b) {
      var x = cellValue(a.cells[index]), y = cellValue(b.cells[index]);
      var c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "zh", { numeric: true });
      return ascending ? c : -c;
    });
    rows.concat(totals).forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("th[data-sort]").forEach(function (th) {
    th.setAttribute("tabindex", "0");
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th); } });
  });
  var box = document.getElementById("patch-map");
  var source = document.getElementById("patch-geojson");
  if (box && source && window.L) {
    var data = JSON.parse(source.textContent);
    var map = L.map(box, { attributionControl: false, scrollWheelZoom: false, zoomControl: false });
    // The zoom buttons' titles in the page's language (data-zoom-in / data-zoom-out from messages.py).
    L.control.zoom({ zoomInTitle: box.getAttribute("data-zoom-in") || "Zoom in",
                     zoomOutTitle: box.getAttribute("data-zoom-out") || "Zoom out" }).addTo(map);
    var villages = L.geoJSON(data.villages, { style: { color: "#495057", weight: 1, fill: false, dashArray: "4 3" } });
    villages.addTo(map);
    var patch = L.geoJSON(data.patch, { style: { color: "#b3261e", weight: 2, fillOpacity: 0.3 } }).addTo(map);
    map.fitBounds(patch.getBounds(), { maxZoom: 17, padding: [20, 20] });
    L.control.scale({ imperial: false }).addTo(map);
    window.geoTrackerPatchMap = map;
    var toggle = document.getElementById("draw-part");
    if (toggle) {
      var points = [], sketch = null, drawing = false;
      var input = document.getElementById("drawn"), status = document.getElementById("draw-status");
      var redraw = function () {
        if (sketch) { map.removeLayer(sketch); }
        sketch = points.length ? L.polygon(points, { color: "#1b6e3a", weight: 2, fillOpacity: 0.35 }).addTo(map) : null;
        var ring = points.map(function (p) { return [p.lng, p.lat]; });
        input.value = points.length >= 3 ? JSON.stringify({ type: "Polygon", coordinates: [ring.concat([ring[0]])] }) : "";
        status.textContent = points.length ? status.getAttribute("data-points").replace("{n}", points.length) : "";
      };
      toggle.addEventListener("click", function () {
        drawing = !drawing;
        toggle.setAttribute("aria-pressed", String(drawing));
        box.classList.toggle("drawing", drawing);
        if (drawing) { box.scrollIntoView({ block: "center" }); }
      });
      document.getElementById("draw-clear").addEventListener("click", function () { points = []; redraw(); });
      map.on("click", function (e) { if (drawing) { points.push(e.latlng); redraw(); } });
    }
  }
  // 前时相 / 后时相: two maps of the patch on its before and after images, moving together.
  var pairSource = document.getElementById("imagery-pair");
  if (pairSource && window.L && source) {
    var pair = JSON.parse(pairSource.textContent), outline = JSON.parse(source.textContent).patch;
    var maps = [];
    ["before", "after"].forEach(function (role) {
      var el = document.getElementById("compare-map-" + role), layer = pair[role];
      if (!el) { return; }
      var m = L.map(el, { attributionControl: false, scrollWheelZoom: false, zoomControl: role === "before", maxZoom: 21 });
      if (layer) {
        L.tileLayer(layer.tiles, { maxNativeZoom: layer.max_zoom, minNativeZoom: layer.min_zoom, maxZoom: 21,
                                   bounds: [[layer.bounds[1], layer.bounds[0]], [layer.bounds[3], layer.bounds[2]]] }).addTo(m);
      }
      L.geoJSON(outline, { style: { color: "#ffd43b", weight: 2, fill: false } }).addTo(m);
      L.control.scale({ imperial: false }).addTo(m);
      maps.push(m);
    });
    var syncing = false;
    maps.forEach(function (m) {
      m.on("move", function () {
        if (syncing) { return; }
        syncing = true;
        maps.forEach(function (other) { if (other !== m) { other.setView(m.getCenter(), m.getZoom(), { animate: false }); } });
        syncing = false;
      });
    });
    if (maps.length) {
      maps.forEach(function (m) { m.setView([0, 0], 2, { animate: false }); });
      maps[0].fitBounds(L.geoJSON(outline).getBounds(), { maxZoom: 19, padding: [24, 24], animate: false });
    }
    window.geoTrackerCompareMaps = maps;
  }
  // A print button (data-print): the print stylesheet leaves only the list.
  document.querySelectorAll("button[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  // A tick box that must be ticked before its form's button works (data-enables="button id").
  document.querySelectorAll("input[data-enables]").forEach(function (box) {
    var target = document.getElementById(box.getAttribute("data-enables"));
    var sync = function () { if (target) { target.disabled = !box.checked; } };
    box.addEventListener("change", sync);
    sync();
  });
})();
