/* geo_tracker map layers: patches by status, villages, legend, search, fullscreen.
 * Every value from imported files reaches the page as text (textContent), never as HTML.
 * Exposes window.geoTracker for tests and for people who script the page. */
(function () {
  "use strict";

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function fmt(value, digits) {
    return value === null || value === undefined ? "-" : Number(value).toFixed(digits === undefined ? 2 : digits);
  }

  function popupContent(p, labels, link) {
    var box = el("div", null, "gt-popup");
    box.appendChild(el("h4", p.patch_code));
    if (link) {
      var a = el("a", link.text, "gt-patch-link");
      a.href = link.base + encodeURIComponent(p.batch) + "/" + encodeURIComponent(p.patch_code);
      a.target = "_top";
      box.appendChild(a);
    }
    var table = el("table");
    function row(label, value) {
      var tr = el("tr");
      tr.appendChild(el("th", label));
      tr.appendChild(el("td", value));
      table.appendChild(tr);
    }
    row("批次", p.batch + "（" + (labels.sources[p.source] || p.source) + "）");
    var villages = Object.keys(p.village_shares || {}).map(function (code) {
      return (p.village_names[code] || code) + " " + (p.village_shares[code] * 100).toFixed(1) + "%";
    });
    row("行政村", villages.length ? villages.join("，") : (p.outside ? "村界外（最近 " + (p.nearest_name || p.nearest_code || "-") + " " + fmt(p.nearest_distance_m, 0) + " 米）" : "-"));
    row("计算面积", fmt(p.area_mu, 4) + " 亩");
    row("下发面积", fmt(p.issued_area_mu, 4) + " 亩");
    row("耕地面积", fmt(p.cultivated_mu, 4) + " 亩");
    row("已整改", fmt(p.rectified_mu, 4) + " 亩（耕地 " + fmt(p.rectified_cultivated_mu, 4) + " 亩）");
    row("状态", (labels.statuses[p.status] || p.status) + (p.status_on ? "（" + p.status_on + "）" : ""));
    row("整改期限", (p.deadline || "-") + (p.overdue ? "（已逾期）" : ""));
    row("案件", (p.case_numbers || []).join("，") || "-");
    if ((p.relapse_of || []).length) row("死灰复燃", "原图斑 " + p.relapse_of.join("，"));
    (p.history || []).forEach(function (h) { row(h.date, h.text); });
    Object.keys(p.attrs || {}).forEach(function (k) { row(k, p.attrs[k]); });
    box.appendChild(table);
    return box;
  }

  window.geoTrackerInit = function (map, data) {
    var byCode = {};
    var overlays = {};
    var bounds = L.latLngBounds([]);
    var patchGroup = L.featureGroup().addTo(map);
    var shown = { status: {}, source: {}, batch: {} };
    var villageLayer = L.geoJSON(data.villages, {
      style: function () { return { color: "#495057", weight: 1.5, fill: false, dashArray: "4 3" }; },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(el("span", f.properties.name), { permanent: true, direction: "center", className: "gt-village-label" });
      }
    }).addTo(map);
    var choropleth = L.geoJSON(data.villages, {
      style: function (f) {
        var r = f.properties.rate;
        var color = r === null ? "#ced4da" : r >= 0.9 ? "#2b8a3e" : r >= 0.6 ? "#94d82d" : r >= 0.3 ? "#fab005" : "#e03131";
        return { color: "#868e96", weight: 1, fillColor: color, fillOpacity: 0.35 };
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(el("div", f.properties.name + "：整改率（面积）" + (f.properties.rate === null ? "-" : (f.properties.rate * 100).toFixed(1) + "%")));
      }
    });
    overlays["行政村界"] = villageLayer;
    overlays["分村整改率"] = choropleth;
    if (data.tracks && data.tracks.features.length) {
      overlays["巡查轨迹（" + data.tracks.features.length + "）"] = L.geoJSON(data.tracks, {
        style: function () { return { color: "#1c7ed6", weight: 3, opacity: 0.8 }; },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(el("span", "巡查 " + f.properties.date + " " + f.properties.members));
        }
      }).addTo(map);
    }
    var count = 0;
    L.geoJSON(data.patches, {
      style: function (f) {
        var p = f.properties;
        return { color: p.overdue ? "#c92a2a" : data.colors[p.status], weight: p.overdue ? 3 : 1.5,
                 dashArray: p.overdue ? "6 3" : null, fillColor: data.colors[p.status], fillOpacity: 0.55 };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindPopup(function () { return popupContent(p, data.labels, data.patch_link); }, { maxWidth: 420 });
        layer.bindTooltip(el("span", p.patch_code));
        patchGroup.addLayer(layer);
        shown.status[p.status] = true;
        shown.source[p.source] = true;
        shown.batch[p.batch] = true;
        byCode[p.patch_code] = layer;
        bounds.extend(layer.getBounds());
        count += 1;
        if ((p.relapse_of || []).length) {
          L.circleMarker(layer.getBounds().getCenter(), { radius: 7, color: "#000", weight: 2, fillColor: "#ff922b", fillOpacity: 1 })
            .bindTooltip(el("span", "死灰复燃：" + p.patch_code)).addTo(patchGroup);
        }
      }
    });
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);

    function applyFilters() {
      Object.keys(byCode).forEach(function (code) {
        var layer = byCode[code];
        var p = layer.feature.properties;
        var visible = shown.status[p.status] && shown.source[p.source] && shown.batch[p.batch];
        if (visible && !patchGroup.hasLayer(layer)) patchGroup.addLayer(layer);
        if (!visible && patchGroup.hasLayer(layer)) patchGroup.removeLayer(layer);
      });
    }
    var filters = L.control({ position: "topright" });
    filters.onAdd = function () {
      var box = el("div", null, "gt-filters leaflet-control-layers leaflet-control-layers-expanded");
      [["status", "状态", function (v) { return data.labels.statuses[v] + "（" + data.counts[v] + "）"; }],
       ["source", "来源", function (v) { return data.labels.sources[v] || v; }],
       ["batch", "批次", function (v) { return v; }]].forEach(function (group) {
        var key = group[0];
        var values = Object.keys(shown[key]).sort();
        box.appendChild(el("strong", group[1]));
        values.forEach(function (value) {
          var label = el("label");
          var box2 = el("input");
          box2.type = "checkbox";
          box2.checked = true;
          box2.setAttribute("data-filter", key);
          box2.value = value;
          box2.addEventListener("change", function () { shown[key][value] = box2.checked; applyFilters(); });
          label.appendChild(box2);
          label.appendChild(el("span", " " + group[2](value)));
          box.appendChild(label);
        });
      });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    filters.addTo(map);

    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var box = el("div", null, "gt-legend");
      box.appendChild(el("strong", "图斑状态"));
      data.statuses.forEach(function (s) {
        var line = el("div");
        var swatch = el("span", null, "gt-swatch");
        swatch.style.background = data.colors[s];
        line.appendChild(swatch);
        line.appendChild(el("span", data.labels.statuses[s]));
        box.appendChild(line);
      });
      var overdue = el("div");
      var outline = el("span", null, "gt-swatch gt-overdue");
      overdue.appendChild(outline);
      overdue.appendChild(el("span", "红色虚线框：已逾期"));
      box.appendChild(overdue);
      var relapse = el("div");
      var dot = el("span", null, "gt-swatch gt-relapse");
      relapse.appendChild(dot);
      relapse.appendChild(el("span", "橙点：死灰复燃"));
      box.appendChild(relapse);
      return box;
    };
    legend.addTo(map);

    var search = L.control({ position: "topleft" });
    search.onAdd = function () {
      var box = el("div", null, "gt-search leaflet-bar");
      var input = el("input");
      input.type = "search";
      input.placeholder = "图斑编号";
      input.setAttribute("list", "gt-codes");
      var list = el("datalist");
      list.id = "gt-codes";
      Object.keys(byCode).sort().forEach(function (code) { var o = el("option"); o.value = code; list.appendChild(o); });
      input.addEventListener("change", function () { window.geoTracker.open(input.value.trim()); });
      L.DomEvent.disableClickPropagation(box);
      box.appendChild(input);
      box.appendChild(list);
      return box;
    };
    search.addTo(map);

    var full = L.control({ position: "topleft" });
    full.onAdd = function () {
      var button = el("a", "全屏", "gt-fullscreen");
      button.href = "#";
      button.title = "全屏";
      var bar = el("div", null, "leaflet-bar");
      bar.appendChild(button);
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.preventDefault(e);
        var container = map.getContainer();
        if (document.fullscreenElement) document.exitFullscreen();
        else if (container.requestFullscreen) container.requestFullscreen();
      });
      return bar;
    };
    full.addTo(map);

    var patchLayers = [];
    Object.keys(byCode).forEach(function (code) { patchLayers.push(byCode[code]); });
    function showMonth(i) {
      patchLayers.forEach(function (layer) {
        var p = layer.feature.properties;
        var s = data.timeline.status[p.lineage_id][i];
        if (s === null || s === undefined) { layer.setStyle({ opacity: 0, fillOpacity: 0 }); return; }
        var status = data.all_statuses[s];
        layer.setStyle({ opacity: 1, fillOpacity: 0.55, color: data.colors[status], fillColor: data.colors[status],
                         dashArray: null, weight: 1.5 });
      });
    }
    if (data.timeline && data.timeline.months.length) {
      var slider = L.control({ position: "bottomleft" });
      slider.onAdd = function () {
        var box = el("div", null, "gt-timeline");
        var label = el("div", "截至 " + data.timeline.months[data.timeline.months.length - 1]);
        var input = el("input");
        input.type = "range";
        input.min = 0;
        input.max = data.timeline.months.length - 1;
        input.value = input.max;
        input.addEventListener("input", function () {
          label.textContent = "截至 " + data.timeline.months[+input.value];
          showMonth(+input.value);
        });
        L.DomEvent.disableClickPropagation(box);
        box.appendChild(label);
        box.appendChild(input);
        return box;
      };
      slider.addTo(map);
    }

    if (bounds.isValid()) map.fitBounds(bounds.pad(0.1));
    window.geoTracker = {
      ready: true,
      patchCount: count,
      visibleCount: function () { return patchGroup.getLayers().filter(function (l) { return l.feature; }).length; },
      showMonth: function (i) { showMonth(i); },
      styleOf: function (code) { var o = byCode[code].options; return { color: o.color, opacity: o.opacity }; },
      open: function (code) {
        var layer = byCode[code];
        if (!layer) return false;
        map.fitBounds(layer.getBounds(), { maxZoom: 17 });
        layer.openPopup();
        return true;
      },
      pointOf: function (code) {
        var layer = byCode[code];
        var p = map.latLngToContainerPoint(layer.getBounds().getCenter());
        var box = map.getContainer().getBoundingClientRect();
        return { x: box.left + p.x, y: box.top + p.y };
      }
    };
  };
})();

/* Vector-tile mode: patches come from /tiles/{z}/{x}/{y}.pbf (for county or province scale). */
(function () {
  "use strict";
  window.geoTrackerTiles = function (map, data) {
    var loaded = 0;
    var layer = L.vectorGrid.protobuf(data.tiles, {
      rendererFactory: L.canvas.tile,
      interactive: true,
      maxNativeZoom: 18,
      vectorTileLayerStyles: {
        patches: function (p) {
          return { color: data.colors[p.status] || "#495057", weight: 1.5, fill: true,
                   fillColor: data.colors[p.status] || "#adb5bd", fillOpacity: 0.55 };
        },
        villages: { color: "#495057", weight: 1, fill: false, dashArray: "4 3" }
      }
    });
    layer.on("tileload", function () { loaded += 1; window.geoTracker.tilesLoaded = loaded; });
    layer.on("click", function (e) {
      var p = e.layer.properties;
      if (!p.patch_code) { return; }
      var box = document.createElement("div");
      [p.patch_code, (data.labels.statuses[p.status] || p.status), Number(p.area_mu).toFixed(4) + " 亩"].forEach(function (t) {
        var line = document.createElement("div");
        line.textContent = t;
        box.appendChild(line);
      });
      if (data.patch_link && p.batch) {
        var a = document.createElement("a");
        a.className = "gt-patch-link";
        a.textContent = data.patch_link.text;
        a.href = data.patch_link.base + encodeURIComponent(p.batch) + "/" + encodeURIComponent(p.patch_code);
        a.target = "_top";
        box.appendChild(a);
      }
      L.popup().setLatLng(e.latlng).setContent(box).openOn(map);
    });
    layer.addTo(map);
    map.fitBounds(L.latLngBounds([data.bounds[1], data.bounds[0]], [data.bounds[3], data.bounds[2]]));
    window.geoTracker = { ready: true, tilesLoaded: 0, mode: "tiles" };
  };
})();
