/* geo_tracker map layers: patches by status, villages, legend, search, fullscreen; on a phone
 * (at most 600 px wide) the panels fold into buttons and small patches get dots a finger can tap.
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

  // A narrow map (a phone): the panels fold into buttons (CSS, at the same width), popups keep
  // clear of the controls, and a tap picks the nearest patch within a finger's width.
  var NARROW = "(max-width: 600px)";
  var TAP_PX = 44;       // a finger: the nearest patch within this many pixels is the one tapped
  var DOT_RADIUS = 12;   // a patch drawn smaller than its dot gets one, so it can be seen and tapped

  function narrow() { return !!(window.matchMedia && window.matchMedia(NARROW).matches); }

  // --- geometry in screen pixels ---------------------------------------------------------

  function ringsOf(latlngs) {
    if (!latlngs.length) return [];
    if (L.LineUtil.isFlat(latlngs)) return [latlngs];
    return latlngs.reduce(function (all, part) { return all.concat(ringsOf(part)); }, []);
  }

  // --- panels that fold into one button each --------------------------------------------

  function setOpen(box, open) {
    box.classList.toggle("gt-closed", !open);
    box.querySelector(".gt-toggle").setAttribute("aria-expanded", String(open));
  }

  function closePanels(map, except) {
    map.getContainer().querySelectorAll(".gt-panel").forEach(function (box) { if (box !== except) setOpen(box, false); });
  }

  // The control's box gets a button (shown by CSS on a narrow map only) that opens and closes it;
  // one panel is open at a time.
  function foldable(map, control, label) {
    var box = control.getContainer();
    var button = el("button", label, "gt-toggle");
    button.type = "button";
    box.classList.add("gt-panel");
    if (control.getPosition().indexOf("bottom") === 0) box.appendChild(button);
    else box.insertBefore(button, box.firstChild);
    setOpen(box, false);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    L.DomEvent.on(button, "click", function (e) {
      L.DomEvent.stop(e);
      var open = box.classList.contains("gt-closed");
      closePanels(map, box);
      setOpen(box, open);
    });
    return button;
  }

  // How far a popup keeps from the map's top and bottom edges: below the top controls, above the bottom ones.
  function controlPadding(map) {
    var box = map.getContainer().getBoundingClientRect(), pad = { top: 10, bottom: 10 };
    map.getContainer().querySelectorAll(".leaflet-control").forEach(function (c) {
      var r = c.getBoundingClientRect();
      if (!r.height) return;
      if (c.parentNode.classList.contains("leaflet-top")) pad.top = Math.max(pad.top, r.bottom - box.top + 8);
      else pad.bottom = Math.max(pad.bottom, box.bottom - r.top + 8);
    });
    return pad;
  }

  // Every key each time: the map's one popup is reused, on a phone and after on a wider window.
  function popupOptions(map) {
    if (!narrow()) return { maxWidth: 420, maxHeight: null, autoPanPaddingTopLeft: null, autoPanPaddingBottomRight: null };
    closePanels(map);
    var pad = controlPadding(map), size = map.getSize();
    // The popup is its content plus margins, the tip and the gap under it: about 70 px.
    return { maxWidth: Math.min(420, size.x - 60), maxHeight: Math.max(120, size.y - pad.top - pad.bottom - 70),
             autoPanPaddingTopLeft: L.point(8, pad.top), autoPanPaddingBottomRight: L.point(8, pad.bottom) };
  }

  // --- the layers -------------------------------------------------------------------------

  function villageLayers(map, data) {
    var outlines = L.geoJSON(data.villages, {
      style: function () { return { color: "#495057", weight: 1.5, fill: false, dashArray: "4 3" }; },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(el("span", f.properties.name), { permanent: true, direction: "center", className: "gt-village-label" });
      }
    }).addTo(map);
    // Not interactive: a tap inside a village goes to the map, which opens the nearest patch first.
    var choropleth = L.geoJSON(data.villages, {
      interactive: false,
      style: function (f) {
        var r = f.properties.rate;
        var color = r === null ? "#ced4da" : r >= 0.9 ? "#2b8a3e" : r >= 0.6 ? "#94d82d" : r >= 0.3 ? "#fab005" : "#e03131";
        return { color: "#868e96", weight: 1, fillColor: color, fillOpacity: 0.35 };
      }
    });
    return { outlines: outlines, choropleth: choropleth };
  }

  function villageAt(map, choropleth, point) {
    var hit = null;
    choropleth.eachLayer(function (layer) {
      if (!hit && layer.getLatLngs && GeoTrackerPick.distanceTo(map, point, ringsOf(layer.getLatLngs())) === 0) hit = layer;
    });
    return hit && el("div", hit.feature.properties.name + "：整改率（面积）" +
      (hit.feature.properties.rate === null ? "-" : (hit.feature.properties.rate * 100).toFixed(1) + "%"));
  }

  function addPatches(map, data, state) {
    var count = 0;
    L.geoJSON(data.patches, {
      style: function (f) {
        var p = f.properties;
        return { color: p.overdue ? "#c92a2a" : data.colors[p.status], weight: p.overdue ? 3 : 1.5,
                 dashArray: p.overdue ? "6 3" : null, fillColor: data.colors[p.status], fillOpacity: 0.55 };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        var centre = layer.getBounds().getCenter();
        if (!narrow()) layer.bindTooltip(el("span", p.patch_code));   // a finger's tap opens the popup instead
        state.patchGroup.addLayer(layer);
        state.shown.status[p.status] = true;
        state.shown.source[p.source] = true;
        state.shown.batch[p.batch] = true;
        state.byCode[p.patch_code] = layer;
        state.dots[p.patch_code] = L.circleMarker(centre, {
          radius: DOT_RADIUS, weight: p.overdue ? 3 : 2, color: p.overdue ? "#c92a2a" : "#fff",
          fillColor: data.colors[p.status], fillOpacity: 0.9, interactive: false });
        state.bounds.extend(layer.getBounds());
        count += 1;
        if ((p.relapse_of || []).length) {
          state.relapse.push(L.circleMarker(centre, { radius: 7, color: "#000", weight: 2, fillColor: "#ff922b", fillOpacity: 1 })
            .bindTooltip(el("span", "死灰复燃：" + p.patch_code)).addTo(state.patchGroup));
        }
      }
    });
    return count;
  }

  function isVisible(state, code) { return state.patchGroup.hasLayer(state.byCode[code]) && !state.monthHidden[code]; }

  // On a narrow map a patch drawn smaller than its dot gets the dot (above the shapes, under the
  // relapse marks); a wide one draws the shapes only, as it always did.
  function showDots(map, state) {
    var phone = narrow();
    Object.keys(state.byCode).forEach(function (code) {
      var box = GeoTrackerPick.pixelBox(map, state.byCode[code].getBounds()), dot = state.dots[code];
      var want = phone && isVisible(state, code) && Math.max(box.max.x - box.min.x, box.max.y - box.min.y) < 2 * DOT_RADIUS;
      if (want && !state.dotGroup.hasLayer(dot)) state.dotGroup.addLayer(dot);
      if (!want && state.dotGroup.hasLayer(dot)) state.dotGroup.removeLayer(dot);
    });
    state.relapse.forEach(function (mark) { if (map.hasLayer(mark)) mark.bringToFront(); });
  }

  // The visible patch nearest the point within TAP_PX (0 inside it, or from its dot's centre);
  // ties (inside two patches) go to the smaller one, which the larger would otherwise hide.
  function nearestPatch(map, state, point) {
    var best = null;
    Object.keys(state.byCode).forEach(function (code) {
      if (!isVisible(state, code)) return;
      var layer = state.byCode[code], box = GeoTrackerPick.pixelBox(map, layer.getBounds());
      if (point.x < box.min.x - TAP_PX || point.x > box.max.x + TAP_PX ||
          point.y < box.min.y - TAP_PX || point.y > box.max.y + TAP_PX) return;
      var dist = GeoTrackerPick.distanceTo(map, point, ringsOf(layer.getLatLngs())), inside = dist === 0;
      if (state.dotGroup.hasLayer(state.dots[code])) {
        dist = Math.min(dist, point.distanceTo(map.latLngToContainerPoint(state.dots[code].getLatLng())));
      }
      var area = layer.feature.properties.area_mu || 0;
      if (dist <= TAP_PX && (!best || dist < best.dist || (dist === best.dist && area < best.area))) {
        best = { code: code, dist: dist, area: area, inside: inside && !state.dotGroup.hasLayer(state.dots[code]) };
      }
    });
    return best;
  }

  // --- the controls -----------------------------------------------------------------------

  function addFilters(map, data, state, applyFilters) {
    var filters = L.control({ position: "topright" });
    filters.onAdd = function () {
      var box = el("div", null, "gt-filters leaflet-control-layers leaflet-control-layers-expanded");
      [["status", "状态", function (v) { return data.labels.statuses[v] + "（" + data.counts[v] + "）"; }],
       ["source", "来源", function (v) { return data.labels.sources[v] || v; }],
       ["batch", "批次", function (v) { return v; }]].forEach(function (group) {
        var key = group[0];
        var values = Object.keys(state.shown[key]).sort();
        box.appendChild(el("strong", group[1]));
        values.forEach(function (value) {
          var label = el("label");
          var box2 = el("input");
          box2.type = "checkbox";
          box2.checked = true;
          box2.setAttribute("data-filter", key);
          box2.value = value;
          box2.addEventListener("change", function () { state.shown[key][value] = box2.checked; applyFilters(); });
          label.appendChild(box2);
          label.appendChild(el("span", " " + group[2](value)));
          box.appendChild(label);
        });
      });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    filters.addTo(map);
    return foldable(map, filters, "筛选");
  }

  function addLegend(map, data) {
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
      [["gt-swatch gt-overdue", "红色虚线框：已逾期"], ["gt-swatch gt-relapse", "橙点：死灰复燃"]].forEach(function (item) {
        var line = el("div");
        line.appendChild(el("span", null, item[0]));
        line.appendChild(el("span", item[1]));
        box.appendChild(line);
      });
      return box;
    };
    legend.addTo(map);
    foldable(map, legend, "图例");
  }

  function addSearch(map, byCode) {
    var search = L.control({ position: "topleft" });
    search.onAdd = function () {
      var box = el("div", null, "gt-search leaflet-bar");
      var input = el("input");
      input.type = "search";
      input.placeholder = "图斑编号";
      input.setAttribute("aria-label", "图斑编号");
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
  }

  function addFullscreen(map) {
    var full = L.control({ position: "topleft" });
    full.onAdd = function () {
      var button = el("a", "全屏", "gt-fullscreen");
      button.href = "#";
      button.title = "全屏";
      button.setAttribute("role", "button");
      var bar = el("div", null, "leaflet-bar gt-fullscreen-bar");
      bar.appendChild(button);
      L.DomEvent.disableClickPropagation(bar);
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.preventDefault(e);
        var container = map.getContainer();
        if (document.fullscreenElement) document.exitFullscreen();
        else if (container.requestFullscreen) container.requestFullscreen();
      });
      return bar;
    };
    full.addTo(map);
  }

  function addTimeline(map, data, showMonth) {
    var slider = L.control({ position: "bottomleft" });
    slider.onAdd = function () {
      var box = el("div", null, "gt-timeline");
      var label = el("div", "截至 " + data.timeline.months[data.timeline.months.length - 1]);
      var input = el("input");
      input.type = "range";
      input.min = 0;
      input.max = data.timeline.months.length - 1;
      input.value = input.max;
      input.setAttribute("aria-label", "月份");
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

  // Zoom buttons titled in Chinese, and a metric scale bar only.
  function chineseZoomAndScale(map) {
    if (map.zoomControl) map.zoomControl.remove();
    map.zoomControl = L.control.zoom({ zoomInTitle: "放大", zoomOutTitle: "缩小" }).addTo(map);
    L.control.scale({ imperial: false }).addTo(map);
  }
  window.geoTrackerZoomAndScale = chineseZoomAndScale;

  function closeButtonInChinese(e) {
    var close = e.popup.getElement() && e.popup.getElement().querySelector(".leaflet-popup-close-button");
    if (close) { close.setAttribute("aria-label", "关闭"); close.title = "关闭"; }
  }

  // Imagery layers (影像) the server serves, newest first, as base layers beside "无影像": one
  // shown at a time, under the patches. Only the served map has them (data.imagery).
  function imageryBases(map, data) {
    if (!data.imagery || !data.imagery.length) return null;
    if (!map.getPane("gt-imagery")) map.createPane("gt-imagery").style.zIndex = 150;   // under vector tiles too
    var bases = { "无影像": L.layerGroup().addTo(map) };
    data.imagery.forEach(function (layer) {
      // The layer control writes names as HTML: a file's name is text.
      var name = escaped("影像 " + layer.date + " " + layer.name + (layer.label ? "（" + layer.label + "）" : ""));
      bases[name] = L.tileLayer(layer.tiles, {
        pane: "gt-imagery", maxNativeZoom: layer.max_zoom, minNativeZoom: layer.min_zoom, maxZoom: 21,
        bounds: [[layer.bounds[1], layer.bounds[0]], [layer.bounds[3], layer.bounds[2]]]
      });
    });
    return bases;
  }
  window.geoTrackerImageryBases = imageryBases;

  function escaped(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // --- the map ----------------------------------------------------------------------------

  window.geoTrackerInit = function (map, data) {
    chineseZoomAndScale(map);
    var state = { byCode: {}, dots: {}, relapse: [], monthHidden: {}, bounds: L.latLngBounds([]), openCode: null,
                  shown: { status: {}, source: {}, batch: {} }, patchGroup: L.featureGroup().addTo(map) };
    var villages = villageLayers(map, data);
    var overlays = { "行政村界": villages.outlines, "分村整改率": villages.choropleth };
    if (data.tracks && data.tracks.features.length) {
      overlays["巡查轨迹（" + data.tracks.features.length + "）"] = L.geoJSON(data.tracks, {
        style: function () { return { color: "#1c7ed6", weight: 3, opacity: 0.8 }; },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(el("span", "巡查 " + f.properties.date + " " + f.properties.members));
        }
      }).addTo(map);
    }
    var count = addPatches(map, data, state);
    state.dotGroup = L.layerGroup().addTo(map);
    foldable(map, L.control.layers(imageryBases(map, data), overlays, { collapsed: false }).addTo(map), "图层");

    var filterButton;
    function applyFilters() {
      var hidden = 0;
      Object.keys(state.byCode).forEach(function (code) {
        var layer = state.byCode[code];
        var p = layer.feature.properties;
        var visible = state.shown.status[p.status] && state.shown.source[p.source] && state.shown.batch[p.batch];
        if (visible && !state.patchGroup.hasLayer(layer)) state.patchGroup.addLayer(layer);
        if (!visible && state.patchGroup.hasLayer(layer)) state.patchGroup.removeLayer(layer);
        if (!visible) hidden += 1;
      });
      // Folded on a phone, the button still says that patches are hidden.
      filterButton.textContent = hidden ? "筛选（隐藏 " + hidden + " 个）" : "筛选";
      showDots(map, state);
    }
    filterButton = addFilters(map, data, state, applyFilters);
    addLegend(map, data);
    addSearch(map, state.byCode);
    addFullscreen(map);

    function showMonth(i) {
      Object.keys(state.byCode).forEach(function (code) {
        var layer = state.byCode[code];
        var s = data.timeline.status[layer.feature.properties.lineage_id][i];
        state.monthHidden[code] = s === null || s === undefined;
        if (state.monthHidden[code]) { layer.setStyle({ opacity: 0, fillOpacity: 0 }); return; }
        var color = data.colors[data.all_statuses[s]];
        layer.setStyle({ opacity: 1, fillOpacity: 0.55, color: color, fillColor: color, dashArray: null, weight: 1.5 });
        state.dots[code].setStyle({ fillColor: color, color: "#fff", weight: 2 });
      });
      showDots(map, state);
    }
    if (data.timeline && data.timeline.months.length) addTimeline(map, data, showMonth);

    // One popup for the map, reused (so a closing one never lingers beside the next).
    var popup = L.popup();
    function openPopup(at, content) {
      L.setOptions(popup, popupOptions(map));
      popup.setLatLng(at).setContent(content).openOn(map);
    }
    function openPatch(code, at) {
      var layer = state.byCode[code];
      openPopup(at || layer.getBounds().getCenter(), popupContent(layer.feature.properties, data.labels, data.patch_link));
      state.openCode = code;
    }
    map.on("click", function (e) {
      closePanels(map);
      var hit = nearestPatch(map, state, e.containerPoint);
      if (hit) return openPatch(hit.code, hit.inside ? e.latlng : null);
      var village = map.hasLayer(villages.choropleth) && villageAt(map, villages.choropleth, e.containerPoint);
      if (village) openPopup(e.latlng, village);
    });
    map.on("popupopen", closeButtonInChinese);
    map.on("popupclose", function () { state.openCode = null; });
    map.on("zoomend resize", function () { showDots(map, state); });

    if (state.bounds.isValid()) map.fitBounds(state.bounds.pad(0.1), { animate: false });
    showDots(map, state);
    window.geoTracker = geoTrackerApi(map, state, count, showMonth, openPatch);
  };

  function geoTrackerApi(map, state, count, showMonth, openPatch) {
    return {
      ready: true,
      patchCount: count,
      visibleCount: function () { return state.patchGroup.getLayers().filter(function (l) { return l.feature; }).length; },
      dotCount: function () { return state.dotGroup.getLayers().length; },
      openCode: function () { return state.openCode; },
      showMonth: function (i) { showMonth(i); },
      styleOf: function (code) { var o = state.byCode[code].options; return { color: o.color, opacity: o.opacity }; },
      open: function (code) {
        var layer = state.byCode[code];
        if (!layer) return false;
        map.fitBounds(layer.getBounds(), { maxZoom: 17 });
        openPatch(code);
        return true;
      },
      pointOf: function (code) {
        var layer = state.byCode[code];
        var p = map.latLngToContainerPoint(layer.getBounds().getCenter());
        var box = map.getContainer().getBoundingClientRect();
        return { x: box.left + p.x, y: box.top + p.y };
      }
    };
  }
})();

/* Vector-tile mode: patches come from /tiles/{z}/{x}/{y}.pbf (for county or province scale). */
(function () {
  "use strict";
  window.geoTrackerTiles = function (map, data) {
    var loaded = 0;
    window.geoTrackerZoomAndScale(map);
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
    var bases = window.geoTrackerImageryBases(map, data);
    if (bases) { L.control.layers(bases, null, { collapsed: true }).addTo(map); }
    map.fitBounds(L.latLngBounds([data.bounds[1], data.bounds[0]], [data.bounds[3], data.bounds[2]]));
    window.geoTracker = { ready: true, tilesLoaded: 0, mode: "tiles" };
  };
})();

/* The map page around the frame (/map): on a phone its filters start folded into one line
 * (which says how many are set), so the map takes the screen; a wider window shows them open. */
(function () {
  "use strict";
  var box = document.querySelector("details.map-filters");
  if (!box || !window.matchMedia) return;
  var query = window.matchMedia("(max-width: 600px)");
  function fit() { box.open = !query.matches; }
  fit();
  if (query.addEventListener) query.addEventListener("change", fit);
})();
