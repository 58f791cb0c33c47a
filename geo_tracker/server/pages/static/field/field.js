/* 外业: the offline field app. The work package and the outbox live in IndexedDB and the map is
   drawn from there, so everything but 下载 and 同步 works in airplane mode. Every word comes from
   the page (messages.py); data from the package is only ever set as text, never as markup. */
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('field-data').textContent);
  var W = data.words;
  var TAP_PX = 44;          // a finger: the nearest patch within this many pixels is the one tapped
  var DOT_BELOW_PX = 16;    // a patch drawn smaller than this gets a dot that can be seen and tapped
  var SYNC_CHUNK = 100;     // the server takes up to 500 actions a request
  var AREA_EPSILON = 1e-6;

  var FORMS = ['verify', 'rectify', 'submit'];

  var state = { pkg: null, patches: new Map(), outbox: [], selected: null, syncing: null, fix: null, heading: null,
                staged: [], drawn: null, drawing: null, packages: [] };
  var $ = function (id) { return document.getElementById(id); };

  function t(key, values) {
    var text = W[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split('{' + name + '}').join(values[name]); });
    return text;
  }

  // --- IndexedDB ------------------------------------------------------------------------

  var dbOpening = null;

  function db() {
    dbOpening = dbOpening || new Promise(function (resolve, reject) {
      var request = indexedDB.open('geo_tracker_field', 2);
      request.onupgradeneeded = function (event) {
        var conn = request.result;
        if (event.oldVersion < 1) {
          conn.createObjectStore('meta', { keyPath: 'name' });
          conn.createObjectStore('patches', { keyPath: 'lineage_id' });
          conn.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        }
        if (event.oldVersion < 2) conn.createObjectStore('photos', { keyPath: 'sha256' });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return dbOpening;
  }

  function run(storeName, mode, work) {
    return db().then(function (conn) {
      return new Promise(function (resolve, reject) {
        var tx = conn.transaction(storeName, mode);
        var request = work(tx.objectStore(storeName));
        tx.oncomplete = function () { resolve(request instanceof IDBRequest ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  var idb = {
    get: function (s, key) { return run(s, 'readonly', function (st) { return st.get(key); }); },
    all: function (s) { return run(s, 'readonly', function (st) { return st.getAll(); }); },
    put: function (s, value) { return run(s, 'readwrite', function (st) { return st.put(value); }); },
    remove: function (s, key) { return run(s, 'readwrite', function (st) { return st.delete(key); }); },
    putAll: function (s, values) { return run(s, 'readwrite', function (st) { values.forEach(function (v) { st.put(v); }); }); },
    removeAll: function (s, keys) { return run(s, 'readwrite', function (st) { keys.forEach(function (k) { st.delete(k); }); }); },
    replaceAll: function (s, values) {
      return run(s, 'readwrite', function (st) { st.clear(); values.forEach(function (v) { st.put(v); }); });
    }
  };

  // A package downloaded by someone else on this phone is not shown to this user.
  async function load() {
    var metas = (await idb.all('meta')).filter(function (m) { return m.user === data.user; });
    var patches = metas.length ? await idb.all('patches') : [];
    var single = metas.find(function (m) { return m.name === 'package'; });
    if (single) metas = metas.filter(function (m) { return m !== single; }).concat([await adoptSingle(single, patches)]);
    adopt(metas.filter(function (m) { return m.name.indexOf('package:') === 0; }));
    var held = heldLineages();
    state.patches = new Map(patches.filter(function (p) { return held.has(p.lineage_id); })
      .map(function (p) { return [p.lineage_id, p]; }));
    state.outbox = (await idb.all('outbox')).filter(function (item) { return item.user === data.user; });
  }

  // --- the map --------------------------------------------------------------------------

  var map = L.map('field-map', { zoomControl: false, attributionControl: false, preferCanvas: true, maxZoom: 21 })
    .setView([30, 106.4], 5);
  var villageLayer = L.layerGroup().addTo(map);
  var patchLayer = L.layerGroup().addTo(map);
  var drawn = new Map();

  var COLOURS = { issued: '#0b5cab', illegal: '#b3261e', case_filed: '#b3261e', rectifying: '#c77700',
                  rectified: '#1b6e3a', submitted: '#1b6e3a', legal: '#1b6e3a', no_change: '#1b6e3a', closed: '#56606a' };

  function styleOf(patch) {
    var colour = COLOURS[patch.status] || '#0b5cab';
    var chosen = state.selected === patch.lineage_id;
    return { color: chosen ? '#ffd600' : colour, weight: chosen ? 5 : 2, fillColor: colour, fillOpacity: 0.35,
             dashArray: pendingFor(patch.lineage_id).length ? '6 4' : null, interactive: false };
  }

  function latLngs(ring) { return ring.map(function (c) { return L.latLng(c[1], c[0]); }); }

  // Each polygon as its rings of LatLngs, whether the geometry is a Polygon or a MultiPolygon.
  function polygonsOf(geometry) {
    var polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    return polygons.map(function (rings) { return rings.map(latLngs); });
  }

  function ringArea(ring) {
    var sum = 0;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      sum += (ring[j].lng * ring[i].lat) - (ring[i].lng * ring[j].lat);
    }
    return sum / 2;
  }

  // Where the dot goes: the centroid of the largest outer ring.
  function centreOf(polygons) {
    var outer = polygons.map(function (rings) { return rings[0]; })
      .sort(function (a, b) { return Math.abs(ringArea(b)) - Math.abs(ringArea(a)); })[0];
    var area = ringArea(outer), x = 0, y = 0;
    if (!area) return outer[0];
    for (var i = 0, j = outer.length - 1; i < outer.length; j = i++) {
      var cross = (outer[j].lng * outer[i].lat) - (outer[i].lng * outer[j].lat);
      x += (outer[j].lng + outer[i].lng) * cross;
      y += (outer[j].lat + outer[i].lat) * cross;
    }
    return L.latLng(y / (6 * area), x / (6 * area));
  }

  function drawPatch(patch) {
    var polygons = polygonsOf(patch.geometry);
    var shape = L.polygon(polygons, styleOf(patch)).addTo(patchLayer);
    var centre = centreOf(polygons);
    var dot = L.circleMarker(centre, { radius: 7, weight: 2, color: '#fff', fillOpacity: 0.9, interactive: false });
    drawn.set(patch.lineage_id, { patch: patch, shape: shape, dot: dot, centre: centre, polygons: polygons,
                                  bounds: shape.getBounds() });
  }

  function drawVillages() {
    villageLayer.clearLayers();
    (state.pkg ? state.pkg.villages : []).forEach(function (v) {
      L.polygon(polygonsOf(v.geometry), { color: '#6b7781', weight: 1, fill: false, interactive: false })
        .addTo(villageLayer);
    });
  }

  function drawAll() {
    patchLayer.clearLayers();
    drawn.clear();
    state.patches.forEach(drawPatch);
    drawVillages();
    showDots();
  }

  function dotStyle(patch) {
    var marked = state.selected === patch.lineage_id || pendingFor(patch.lineage_id).length > 0;
    return { fillColor: styleOf(patch).fillColor, color: marked ? '#ffd600' : '#fff', weight: marked ? 3 : 2 };
  }

  function restyle() {
    drawn.forEach(function (d) {
      d.shape.setStyle(styleOf(d.patch));
      d.dot.setStyle(dotStyle(d.patch));
    });
  }

  function pixelSize(bounds) {
    var a = map.latLngToContainerPoint(bounds.getNorthWest()), b = map.latLngToContainerPoint(bounds.getSouthEast());
    return Math.max(Math.abs(b.x - a.x), Math.abs(b.y - a.y));
  }

  function showDots() {
    drawn.forEach(function (d) {
      var small = pixelSize(d.bounds) < DOT_BELOW_PX;
      if (small && !patchLayer.hasLayer(d.dot)) d.dot.setStyle(dotStyle(d.patch)).addTo(patchLayer);
      if (!small && patchLayer.hasLayer(d.dot)) patchLayer.removeLayer(d.dot);
    });
  }

  function fit() {
    var bounds = L.latLngBounds([]);
    drawn.forEach(function (d) { bounds.extend(d.bounds); });
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 18, animate: false });
  }

  // --- tapping: the nearest patch within a finger's width -------------------------------

  function nearTap(point, d) {
    var box = GeoTrackerPick.pixelBox(map, d.bounds);
    return point.x >= box.min.x - TAP_PX && point.x <= box.max.x + TAP_PX &&
           point.y >= box.min.y - TAP_PX && point.y <= box.max.y + TAP_PX;
  }

  // Ties (inside two patches) go to the smaller one, which the larger would otherwise hide.
  function nearest(point) {
    var best = null;
    drawn.forEach(function (d) {
      if (!nearTap(point, d)) return;
      var dist = GeoTrackerPick.distanceTo(map, point, [].concat.apply([], d.polygons));
      if (patchLayer.hasLayer(d.dot)) dist = Math.min(dist, point.distanceTo(map.latLngToContainerPoint(d.centre)));
      var better = !best || dist < best.dist || (dist === best.dist && d.patch.area_mu < best.d.patch.area_mu);
      if (dist <= TAP_PX && better) best = { d: d, dist: dist };
    });
    return best && best.d;
  }

  map.on('click', function (e) {
    if (state.drawing) {
      state.drawing.ring.push([e.latlng.lng, e.latlng.lat]);
      return showDrawing();
    }
    var d = nearest(e.containerPoint);
    if (d) select(d.patch.lineage_id); else closeSheet();
  });
  map.on('zoomend', showDots);

  // --- where the phone is ---------------------------------------------------------------

  var here = { dot: null, circle: null };

  function onFix(position) {
    var c = position.coords, at = L.latLng(c.latitude, c.longitude);
    state.fix = { lon: c.longitude, lat: c.latitude, accuracy_m: Math.round(c.accuracy * 10) / 10 };
    if (typeof c.heading === 'number' && !isNaN(c.heading)) state.heading = Math.round(c.heading);
    if (!here.dot) {
      here.circle = L.circle(at, { radius: c.accuracy, color: '#1a73e8', weight: 1, fillOpacity: 0.12,
                                   interactive: false }).addTo(map);
      here.dot = L.circleMarker(at, { radius: 8, color: '#fff', weight: 3, fillColor: '#1a73e8', fillOpacity: 1,
                                      interactive: false }).addTo(map);
    } else {
      here.circle.setLatLng(at).setRadius(c.accuracy);
      here.dot.setLatLng(at);
    }
    showWhere();
    if (!$('field-panel').hidden) showNearby();
  }

  // A compass that says where north is (absolute), in degrees clockwise; iOS names it differently.
  function onHeading(e) {
    var h = typeof e.webkitCompassHeading === 'number' ? e.webkitCompassHeading
      : (e.absolute && typeof e.alpha === 'number' ? (360 - e.alpha) % 360 : null);
    if (h !== null) state.heading = Math.round(h);
  }

  function watchPosition() {
    if (!navigator.geolocation) return;
    navigator.geolocation.watchPosition(onFix, function () { showWhere(); },
                                        { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 });
    window.addEventListener('deviceorientationabsolute', onHeading);
    window.addEventListener('deviceorientation', onHeading);
  }

  function toPatch(patch) {
    return state.fix ? FieldGeo.toPatch([state.fix.lon, state.fix.lat], patch.geometry) : null;
  }

  function whereText(patch) {
    var to = toPatch(patch);
    if (!to) return t('no_fix');
    var accuracy = Math.round(state.fix.accuracy_m);
    if (to.inside) return t('where_inside', { accuracy: accuracy });
    return t('where', { metres: Math.round(to.metres), direction: FieldGeo.compass(to.bearing),
                        bearing: Math.round(to.bearing), accuracy: accuracy });
  }

  function showWhere() {
    if (state.selected === null) return;
    var patch = state.patches.get(state.selected), to = toPatch(patch), box = $('sheet-where');
    box.textContent = whereText(patch);
    box.classList.toggle('inside', !!(to && to.inside));
  }

  // The nearest patches first once the phone knows where it is; by code before that.
  function showNearby() {
    var list = $('field-nearby'), rows = [];
    state.patches.forEach(function (patch) { rows.push({ patch: patch, to: toPatch(patch) }); });
    rows.sort(function (a, b) {
      return a.to && b.to ? a.to.metres - b.to.metres : String(a.patch.patch_code).localeCompare(b.patch.patch_code);
    });
    list.textContent = '';
    rows.slice(0, 20).forEach(function (row) {
      var text = row.to ? t('nearby_item', { code: row.patch.patch_code, metres: Math.round(row.to.metres),
                                             direction: row.to.inside ? t('photo_inside') : FieldGeo.compass(row.to.bearing) })
        : row.patch.patch_code;
      var li = element('li'), button = itemButton(text, function () { select(row.patch.lineage_id, true); }, true);
      li.appendChild(button);
      list.appendChild(li);
    });
    if (!rows.length) list.appendChild(element('li', t('nearby_none'), 'field-muted'));
  }

  function locate() {
    closePanel();
    if (state.fix) map.setView([state.fix.lat, state.fix.lon], Math.max(map.getZoom(), 17), { animate: false });
    else toast(t('no_fix'));
  }

  // --- the patch sheet ------------------------------------------------------------------

  function mu(value) { return value === null || value === undefined ? '-' : Number(value).toFixed(2); }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function pendingFor(lineage) {
    return state.outbox.filter(function (item) { return item.lineage_id === lineage; });
  }

  // What may still reach the server: a refused action never will.
  function waitingFor(lineage) {
    return pendingFor(lineage).filter(function (item) { return item.state !== 'refused'; });
  }

  function fillFacts(patch) {
    var facts = $('sheet-facts');
    facts.textContent = '';
    [['code', patch.patch_code], ['status', data.statuses[patch.status] || patch.status], ['area', mu(patch.area_mu)],
     ['rectified', mu(patch.rectified_mu)], ['village', patch.village_name || '-'], ['batch', patch.batch]]
      .forEach(function (row) {
        facts.appendChild(element('dt', t(row[0])));
        facts.appendChild(element('dd', row[1], 'fact-' + row[0]));
      });
  }

  function eventText(e) {
    var parts = [e.on, e.label || e.kind, e.actor || ''];
    if (e.result) parts.push(t('result_short') + ' ' + (data.results[e.result] || e.result));
    if (e.area_mu !== null && e.area_mu !== undefined) parts.push(t('area_short') + ' ' + mu(e.area_mu) + t('mu'));
    if (e.note) parts.push(e.note);
    return parts.filter(Boolean).join(' · ');
  }

  function fillHistory(patch) {
    var list = $('sheet-history');
    list.textContent = '';
    (patch.history || []).forEach(function (e) { list.appendChild(element('li', eventText(e))); });
    if (!list.children.length) list.appendChild(element('li', t('no_history')));
  }

  // The status the patch will have once this phone's outbox is synced: a verification found 违法
  // may be followed by a rectification in the same visit.
  function statusAfterOutbox(patch) {
    return waitingFor(patch.lineage_id).reduce(function (status, item) {
      if (item.action.kind === 'verify') return item.action.result;
      if (item.action.kind === 'submit') return 'submitted';
      return remainingOf(patch) <= AREA_EPSILON ? 'rectified' : 'rectifying';
    }, patch.status);
  }

  // 申请销号 only where the county reviews the patch's source; elsewhere the township closes it online.
  function reviewed(patch) { return !!state.pkg && (state.pkg.review_sources || []).indexOf(patch.source) >= 0; }

  function fillActions(patch) {
    var status = statusAfterOutbox(patch), may = {};
    FORMS.forEach(function (k) { may[k] = data.allowed[k].indexOf(status) >= 0; });
    $('sheet-submit').hidden = !reviewed(patch);
    FORMS.forEach(function (k) { $('sheet-' + k).disabled = !may[k]; });
    var refused = FORMS.filter(function (k) { return !may[k] && (k !== 'submit' || reviewed(patch)); })
      .map(function (k) { return t(k); });
    $('sheet-why').hidden = !refused.length;
    $('sheet-why').textContent = t('not_allowed', { status: data.statuses[status] || status, actions: refused.join('、') });
    var waiting = pendingFor(patch.lineage_id).length;
    $('sheet-pending').hidden = !waiting;
    $('sheet-pending').textContent = t('pending_for_patch', { n: waiting });
  }

  function fillSheet(patch) {
    $('sheet-code').textContent = patch.patch_code;
    fillFacts(patch);
    fillHistory(patch);
    fillActions(patch);
    showWhere();
  }

  function select(lineage, zoom) {
    var patch = state.patches.get(lineage);
    if (!patch) return;
    state.selected = lineage;
    closePanel();
    fillSheet(patch);
    hideForms();
    $('field-sheet').hidden = false;
    restyle();
    drawn.get(lineage).shape.bringToFront();
    if (zoom) map.fitBounds(drawn.get(lineage).bounds, { maxZoom: 18, padding: [40, 40], animate: false });
    keepInSight(drawn.get(lineage));
  }

  // The sheet covers the lower part of the map: move the chosen patch into the part still seen.
  function keepInSight(d) {
    var seen = $('field-sheet').getBoundingClientRect().top - $('field-map').getBoundingClientRect().top;
    var at = map.latLngToContainerPoint(d.centre), size = map.getSize();
    if (at.y > 24 && at.y < seen - 24 && at.x > 24 && at.x < size.x - 24) return;
    map.panBy([at.x - size.x / 2, at.y - seen / 2], { animate: false });
  }

  function closeSheet() {
    $('field-sheet').hidden = true;
    state.selected = null;
    restyle();
  }

  // --- recording an action offline ------------------------------------------------------

  function two(n) { return String(n).padStart(2, '0'); }

  // The phone's own calendar day: the day the enforcer stood there, whatever the server's clock says.
  function dayOf(d) { return [d.getFullYear(), two(d.getMonth() + 1), two(d.getDate())].join('-'); }

  function today() { return dayOf(new Date()); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }

  function hideForms() {
    FORMS.forEach(function (kind) { $(kind + '-form').hidden = true; });
  }

  function openForm(id) {
    var patch = state.patches.get(state.selected), form = $(id);
    hideForms();
    form.reset();
    state.staged = [];
    state.drawn = null;
    showStaged(form, patch);
    form.elements.on.value = today();
    form.elements.on.max = today();
    form.elements.on.min = patch.issued_on || '';
    problem(form, null);
    if (id === 'rectify-form') showHow(form, patch);
    form.hidden = false;
    form.scrollIntoView({ block: 'nearest' });
  }

  // The rectify form shows the field of the way its area is given: a figure, all of it, or a drawing.
  function showHow(form, patch) {
    var how = form.elements.how.value;
    form.querySelectorAll('[data-how]').forEach(function (node) { node.hidden = node.dataset.how !== how; });
    var remaining = remainingOf(patch).toFixed(4);
    form.querySelector('[data-remaining]').textContent = how === 'full' ? t('full_area', { remaining: remaining })
      : t('remaining', { remaining: remaining });
    form.querySelector('[data-drawn]').textContent = state.drawn ? t('drawn_area', { area: state.drawn.area.toFixed(4) }) : '';
  }

  // --- photos -----------------------------------------------------------------------------

  function photoText(photo, patch, n) {
    var where = photo.lon === null ? null : FieldGeo.toPatch([photo.lon, photo.lat], patch.geometry);
    var far = where && where.metres > data.far_photo_m;
    var about = !where ? t('photo_no_fix') : where.inside ? t('photo_inside')
      : t(far ? 'photo_far' : 'photo_near', { metres: Math.round(where.metres), limit: data.far_photo_m });
    return { text: t('photo', { n: n }) + ' · ' + about, far: far };
  }

  function showStaged(form, patch) {
    var list = form.querySelector('[data-photos]');
    list.textContent = '';
    state.staged.forEach(function (photo, i) {
      var said = photoText(photo, patch, i + 1), li = element('li', said.text, said.far ? 'far' : '');
      li.dataset.sha256 = photo.sha256;
      li.appendChild(document.createTextNode(' '));
      li.appendChild(itemButton(t('photo_remove'), function () {
        state.staged = state.staged.filter(function (other) { return other !== photo; });
        showStaged(form, patch);
      }, true));
      list.appendChild(li);
    });
  }

  async function stagePhotos(form) {
    var patch = state.patches.get(state.selected), files = Array.from(form.elements.photos.files || []);
    for (var file of files) {
      var photo = await FieldPhotos.take(file, state.fix, state.heading);
      if (!state.staged.some(function (p) { return p.sha256 === photo.sha256; })) state.staged.push(photo);
    }
    form.elements.photos.value = '';
    showStaged(form, patch);
  }

  async function keepPhotos(photos) {
    for (var photo of photos) await idb.put('photos', Object.assign({ user: data.user, uploaded: false }, photo));
    return photos.map(FieldPhotos.cited);
  }

  // --- drawing the rectified part -------------------------------------------------------

  function startDrawing() {
    state.drawing = { ring: [], line: L.polygon([], { color: '#ffd600', weight: 3, fillOpacity: 0.25, interactive: false }).addTo(map) };
    $('field-sheet').hidden = true;
    $('field-draw').hidden = false;
    showDrawing();
  }

  function drawnArea(ring) {
    return ring.length < 3 ? 0 : FieldGeo.areaWithinMu(ring.concat([ring[0]]), state.patches.get(state.selected).geometry);
  }

  function showDrawing() {
    var ring = state.drawing.ring;
    state.drawing.line.setLatLngs(ring.map(function (c) { return L.latLng(c[1], c[0]); }));
    $('draw-hint').textContent = t('draw_hint', { area: drawnArea(ring).toFixed(4) });
    $('draw-undo').disabled = !ring.length;
  }

  function stopDrawing(keep) {
    var ring = state.drawing.ring, form = $('rectify-form'), patch = state.patches.get(state.selected);
    map.removeLayer(state.drawing.line);
    state.drawing = null;
    $('field-draw').hidden = true;
    $('field-sheet').hidden = false;
    if (keep && ring.length >= 3) {
      var closed = ring.concat([ring[0]]);
      state.drawn = { geometry: { type: 'Polygon', coordinates: [closed] }, area: drawnArea(ring) };
    } else if (keep) {
      problem(form, t('draw_need'));
    }
    showHow(form, patch);
  }

  function problem(form, text) {
    var box = form.querySelector('.field-problem');
    box.hidden = !text;
    box.textContent = text || '';
  }

  // What is left to rectify as this phone sees it: the server's figure less what waits in the outbox.
  function remainingOf(patch) {
    var waiting = waitingFor(patch.lineage_id).filter(function (item) { return item.action.kind === 'rectify'; })
      .reduce(function (sum, item) { return sum + Number(item.area_mu || item.action.area_mu || 0); }, 0);
    return Math.max(0, Number(patch.area_mu) - Number(patch.rectified_mu || 0) - waiting);
  }

  function checkDay(patch, on) {
    return on && on <= today() && (!patch.issued_on || on >= patch.issued_on)
      ? null : t('bad_day', { issued: patch.issued_on || '-' });
  }

  function verifyValues(form, patch) {
    var values = { result: form.elements.result.value };
    if (!values.result) return t('need_choice', { what: t('result') });
    return checkDay(patch, form.elements.on.value) || values;
  }

  // The area as the phone sees it, and what the action sends: a figure, ``full`` or the drawing.
  function rectifiedArea(form, patch) {
    var how = form.elements.how.value, remaining = remainingOf(patch);
    if (how === 'full') return remaining > AREA_EPSILON ? { area: remaining, send: { full: true } } : t('area_positive');
    if (how === 'drawn') {
      if (!state.drawn) return t('draw_need');
      if (!(state.drawn.area > 0)) return t('draw_outside');
      return { area: state.drawn.area, send: { drawn: state.drawn.geometry } };
    }
    var area = Number(form.elements.area_mu.value);
    if (!form.elements.area_mu.value || !(area > 0)) return t('area_positive');
    return { area: area, send: { area_mu: area } };
  }

  function rectifyValues(form, patch) {
    var measure = form.elements.measure.value;
    if (!measure) return t('need_choice', { what: t('measure') });
    var got = rectifiedArea(form, patch), remaining = remainingOf(patch);
    if (typeof got === 'string') return got;
    if (got.area > remaining + AREA_EPSILON) return t('over_remaining', { remaining: remaining.toFixed(4) });
    return checkDay(patch, form.elements.on.value) || Object.assign({ measure: measure, phone_area_mu: got.area }, got.send);
  }

  function submitValues(form, patch) { return checkDay(patch, form.elements.on.value) || {}; }

  var VALUES = { verify: verifyValues, rectify: rectifyValues, submit: submitValues };

  async function record(kind, form) {
    var patch = state.patches.get(state.selected);
    var values = VALUES[kind](form, patch);
    if (typeof values === 'string') return problem(form, values);
    var phoneArea = values.phone_area_mu;
    delete values.phone_area_mu;
    var action = Object.assign({ key: newKey(), kind: kind, ref: patch.ref, patch_id: patch.id,
                                 row_version: patch.row_version, on: form.elements.on.value,
                                 captured_at: new Date().toISOString(), note: form.elements.note.value.trim(),
                                 photos: await keepPhotos(state.staged) }, values);
    var item = { user: data.user, state: 'pending', lineage_id: patch.lineage_id, code: patch.patch_code, action: action,
                 area_mu: phoneArea === undefined ? null : phoneArea };
    state.staged = [];
    state.drawn = null;
    item.seq = await idb.put('outbox', item);
    state.outbox.push(item);
    form.hidden = true;
    showOutbox();
    fillActions(patch);
    restyle();
    toast(navigator.onLine ? t('saved') : t('wait_online'));
  }

  // --- the outbox -----------------------------------------------------------------------

  function rectifiedText(action, area) {
    var how = action.full ? ' ' + t('full_short') : action.drawn ? ' ' + t('drawn_short') : '';
    return (data.measures[action.measure] || action.measure) + how + ' ' + t('area_short') + ' ' + mu(area) + t('mu');
  }

  function actionText(action, area) {
    var what = action.kind === 'verify' ? t('result_short') + ' ' + (data.results[action.result] || action.result)
      : action.kind === 'rectify' ? rectifiedText(action, area === undefined || area === null ? action.area_mu : area) : '';
    var photos = (action.photos || []).length ? t('photo_count', { n: action.photos.length }) : '';
    return [t(action.kind), action.on, what, photos, action.note].filter(Boolean).join(' · ');
  }

  function theirsText(theirs) {
    if (!theirs || theirs.id === null || theirs.id === undefined) return '-';
    var last = (theirs.history || []).slice(-1)[0];
    return [data.statuses[theirs.status] || theirs.status, t('rectified') + ' ' + mu(theirs.rectified_mu),
            t('row_version') + ' ' + theirs.row_version, last ? t('last_event') + ' ' + eventText(last) : '']
      .filter(Boolean).join(' · ');
  }

  function itemButton(label, handler, secondary) {
    var button = element('button', label, secondary ? 'secondary' : '');
    button.type = 'button';
    button.addEventListener('click', handler);
    return button;
  }

  function compare(item) {
    var box = element('div', undefined, 'field-compare');
    [[t('theirs'), theirsText(item.theirs)], [t('mine'), actionText(item.action, item.area_mu)]].forEach(function (pair) {
      var side = element('div');
      side.appendChild(element('strong', pair[0]));
      side.appendChild(element('div', pair[1]));
      box.appendChild(side);
    });
    return box;
  }

  function outboxEntry(item) {
    var li = element('li', undefined, item.state);
    li.dataset.key = item.action.key;
    li.appendChild(element('div', item.code + ' · ' + actionText(item.action, item.area_mu)));
    var row = element('div', undefined, 'field-row');
    if (item.state === 'pending') li.appendChild(element('div', t('pending'), 'field-muted'));
    if (item.state === 'conflict') {
      li.appendChild(element('strong', t('conflict')));
      li.appendChild(compare(item));
      if (item.theirs && item.theirs.id !== null) row.appendChild(itemButton(t('resend'), function () { resend(item); }));
    }
    if (item.state === 'refused') {
      li.appendChild(element('strong', t('refused')));
      li.appendChild(element('div', item.message || '', 'field-problem'));
    }
    if (item.state !== 'pending') row.appendChild(itemButton(t('drop'), function () { drop(item); }, true));
    else row.appendChild(itemButton(t('delete'), function () { if (confirm(t('delete_confirm'))) drop(item); }, true));
    if (row.children.length) li.appendChild(row);
    return li;
  }

  function showOutbox() {
    var list = $('field-outbox'), n = state.outbox.length;
    list.textContent = '';
    state.outbox.forEach(function (item) { list.appendChild(outboxEntry(item)); });
    $('field-outbox-empty').hidden = n > 0;
    $('field-count').textContent = String(n);
    $('field-badge').textContent = String(n);
    $('field-badge').classList.toggle('empty', n === 0);
  }

  function forget(item) {
    state.outbox = state.outbox.filter(function (other) { return other !== item; });
    showOutbox();
    return idb.remove('outbox', item.seq);
  }

  async function drop(item) {
    if (state.syncing && item.state === 'pending') return;
    await forget(item);
    await forgetPhotos();
    afterOutboxChange();
  }

  // A photo stays on the phone while an action in the outbox cites it.
  async function forgetPhotos() {
    var cited = new Set();
    state.outbox.forEach(function (item) { (item.action.photos || []).forEach(function (p) { cited.add(p.sha256); }); });
    for (var photo of await idb.all('photos')) {
      if (!cited.has(photo.sha256)) await idb.remove('photos', photo.sha256);
    }
  }

  // Every photo the waiting actions cite, uploaded (or resumed) before any action is sent.
  async function uploadPhotos(pending, csrf) {
    var wanted = [];
    pending.forEach(function (item) {
      (item.action.photos || []).forEach(function (p) { if (wanted.indexOf(p.sha256) < 0) wanted.push(p.sha256); });
    });
    for (var i = 0; i < wanted.length; i++) {
      var photo = await idb.get('photos', wanted[i]);
      if (!photo || photo.uploaded) continue;
      toast(t('uploading', { n: i + 1, total: wanted.length }));
      await FieldPhotos.upload(photo, csrf);
      photo.uploaded = true;
      await idb.put('photos', photo);
    }
  }

  // Sent again against the server's row as it is now, under a new key (the old key may be recorded).
  async function resend(item) {
    item.action = Object.assign({}, item.action, { key: newKey(), patch_id: item.theirs.id,
                                                   row_version: item.theirs.row_version });
    item.state = 'pending';
    delete item.theirs;
    delete item.message;
    await idb.put('outbox', item);
    afterOutboxChange();
    return sync(true);
  }

  function afterOutboxChange() {
    showOutbox();
    restyle();
    if (state.selected !== null) fillActions(state.patches.get(state.selected));
  }

  // --- talking to the server ------------------------------------------------------------

  function LoginNeeded() { this.loginNeeded = true; }

  // The answer's body, or the reason it gives (the API's errors are {code, message}).
  async function bodyOf(response) {
    if (response.status === 401) throw new LoginNeeded();
    if (response.ok) return response.json();
    var reason = response.status + ' ' + response.statusText;
    try { reason = (await response.json()).message || reason; } catch (notJson) { /* keep the status */ }
    throw new Error(reason);
  }

  // The CSRF token of the session as it is now (the page may have come from the offline cache).
  // A lapsed session is redirected to the login page, which is not JSON.
  async function session() {
    var response = await fetch('/field/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    var json = (response.headers.get('content-type') || '').indexOf('json') >= 0;
    if (response.redirected || !response.ok || !json) throw new LoginNeeded();
    var who = await response.json();
    if (who.user !== data.user) throw new LoginNeeded();
    return who.csrf;
  }

  async function post(items, csrf) {
    var response = await fetch('/api/v1/field/sync', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ actions: items.map(function (item) { return item.action; }) })
    });
    return (await bodyOf(response)).results;
  }

  // The server's patch as an answer gave it, in place of the package's (same lineage).
  async function keepPatch(patch) {
    if (!patch || patch.id === null || patch.id === undefined || !state.pkg) return;
    var copy = Object.assign({}, patch, { geometry: JSON.parse(patch.geometry) });
    state.patches.set(copy.lineage_id, copy);
    await idb.put('patches', copy);
  }

  // Only an action answered done leaves the outbox; a conflict or a refusal waits for the user.
  // ``after`` remembers, per patch, the row an action answered done left (see rounds).
  async function settle(item, answer, after) {
    if (!answer) return 0;
    if (answer.outcome === 'done') {
      await forget(item);
      await keepPatch(answer.patch);
      if (answer.patch) after.set(item.lineage_id, answer.patch); else after.delete(item.lineage_id);
      return 1;
    }
    after.delete(item.lineage_id);
    item.state = answer.outcome === 'conflict' ? 'conflict' : 'refused';
    item.theirs = answer.theirs;
    item.message = answer.message;
    await idb.put('outbox', item);
    await keepPatch(answer.theirs);
    return 0;
  }

  // The k-th waiting action of each patch goes in round k: a patch's later action is sent once the
  // earlier one is answered, against the row that answer left, because the phone recorded it knowing
  // of the earlier one. Anything else that changed the patch still answers conflict.
  function rounds(pending) {
    var seen = new Map(), out = [];
    pending.forEach(function (item) {
      var k = seen.get(item.lineage_id) || 0;
      seen.set(item.lineage_id, k + 1);
      (out[k] = out[k] || []).push(item);
    });
    return out;
  }

  async function rebase(round, after) {
    for (var item of round) {
      var row = after.get(item.lineage_id);
      if (!row) continue;
      item.action = Object.assign({}, item.action, { patch_id: row.id, row_version: row.row_version });
      await idb.put('outbox', item);
    }
  }

  async function sendAll(pending, csrf) {
    var after = new Map(), done = 0;
    for (var round of rounds(pending)) {
      await rebase(round, after);
      for (var i = 0; i < round.length; i += SYNC_CHUNK) {
        var chunk = round.slice(i, i + SYNC_CHUNK);
        var answers = new Map((await post(chunk, csrf)).map(function (a) { return [a.key, a]; }));
        for (var item of chunk) done += await settle(item, answers.get(item.action.key), after);
      }
    }
    return done;
  }

  // ``quiet``: a sync the page started by itself says nothing when there is nothing to send.
  async function syncNow(quiet) {
    var pending = state.outbox.filter(function (item) { return item.state === 'pending'; });
    if (!pending.length) return quiet ? null : toast(t('sync_none'));
    if (!navigator.onLine) return toast(t('wait_online'));
    busy(true, t('syncing'));
    try {
      var csrf = await session();
      await uploadPhotos(pending, csrf);
      var done = await sendAll(pending, csrf);
      toast(t('synced', { done: done, left: state.outbox.length }));
      showProblem(null);
      if (state.outbox.length) openPanel();
    } catch (error) {
      showProblem(error.loginNeeded ? t('login_again') : t('sync_failed', { reason: error.message }), error.loginNeeded);
    } finally {
      await forgetPhotos();
      busy(false);
      drawAll();
      afterOutboxChange();
      if (state.selected !== null) fillSheet(state.patches.get(state.selected));
    }
  }

  function sync(quiet) {
    state.syncing = state.syncing || syncNow(quiet === true).then(function () { state.syncing = null; });
    return state.syncing;
  }

  // --- the work package -----------------------------------------------------------------

  function parsed(items) {
    return items.map(function (item) { return Object.assign({}, item, { geometry: JSON.parse(item.geometry) }); });
  }

  // Each download is kept as a package of its own (filters, version, date, the patches it holds);
  // a patch two packages hold is stored once, and leaves the phone when no package holds it.
  function packageKey(filters) { return 'package:' + (query(filters || {}) || '?'); }

  function adopt(packages) {
    state.packages = packages.sort(function (a, b) { return a.downloaded_at < b.downloaded_at ? -1 : 1; });
    state.pkg = packages.length ? merged(packages) : null;
  }

  // What the map and the sheet need of all packages at once: every village once, every review source.
  function merged(packages) {
    var villages = new Map(), sources = new Set();
    packages.forEach(function (p) {
      (p.villages || []).forEach(function (v) { villages.set(v.code, v); });
      (p.review_sources || []).forEach(function (s) { sources.add(s); });
    });
    return { villages: Array.from(villages.values()), review_sources: Array.from(sources) };
  }

  function heldLineages() {
    var held = new Set();
    state.packages.forEach(function (p) { p.lineages.forEach(function (id) { held.add(id); }); });
    return held;
  }

  async function dropUnheld(lineages) {
    var held = heldLineages(), gone = lineages.filter(function (id) { return !held.has(id); });
    gone.forEach(function (id) { state.patches.delete(id); });
    await idb.removeAll('patches', gone);
  }

  // A phone that kept one package before packages were listed keeps it as the first of its list.
  async function adoptSingle(single, patches) {
    await idb.remove('meta', 'package');
    var meta = Object.assign({}, single, { name: packageKey(single.filters),
                                           lineages: patches.map(function (p) { return p.lineage_id; }) });
    await idb.put('meta', meta);
    return meta;
  }

  async function storePackage(pkg, bytes, filters) {
    var patches = parsed(pkg.patches), key = packageKey(filters);
    var before = state.packages.find(function (p) { return p.name === key; });
    var meta = { name: key, user: data.user, version: pkg.version, made_at: pkg.made_at, bytes: bytes,
                 downloaded_at: new Date().toISOString(), refreshed_at: null, villages: parsed(pkg.villages),
                 labels: pkg.labels, review_sources: pkg.review_sources || [], filters: filters || {},
                 lineages: patches.map(function (p) { return p.lineage_id; }) };
    await idb.putAll('patches', patches);
    await idb.put('meta', meta);
    patches.forEach(function (p) { state.patches.set(p.lineage_id, p); });
    adopt(state.packages.filter(function (p) { return p !== before; }).concat([meta]));
    if (before) await dropUnheld(before.lineages);
    return meta;
  }

  function query(filters, since) {
    var params = new URLSearchParams();
    (filters.villages || []).forEach(function (v) { params.append('village', v); });
    (filters.statuses || []).forEach(function (v) { params.append('status', v); });
    if (filters.batch) params.set('batch', filters.batch);
    if (filters.source) params.set('source', filters.source);
    if (since) params.set('since', since);
    var text = params.toString();
    return text ? '?' + text : '';
  }

  async function getJson(path) {
    return bodyOf(await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
  }

  async function download(filters) {
    filters = filters && filters.villages ? filters : {};
    busy(true, t('downloading'));
    try {
      var response = await fetch('/api/v1/field/package' + query(filters), { credentials: 'same-origin',
                                                                              headers: { Accept: 'application/json' } });
      var meta = await storePackage(await bodyOf(response), response.headers.get('X-Package-Bytes'), filters);
      if (filters.imagery_zoom) await downloadImagery(filters, meta);
      afterPackage(t('downloaded', { n: state.patches.size }), true);
    } catch (error) {
      showProblem(error.loginNeeded ? t('login_again') : t('download_failed', { reason: error.message }), error.loginNeeded);
    } finally {
      busy(false);
    }
  }

  // --- imagery (影像) taken out with a package: its tiles in the Cache API (the service worker answers
  // from there), its layers in the package's meta, one shown under the patches at a time --------

  var TILES = 'imagery-tiles', imageryLayer = null;

  function withZoom(search, zoom) { return (search ? search + '&' : '?') + 'max_zoom=' + zoom; }

  async function downloadImagery(filters, meta) {
    var list = await getJson('/api/v1/field/imagery' + withZoom(query(filters), filters.imagery_zoom));
    var cache = await caches.open(TILES), templates = new Map();
    list.layers.forEach(function (l) { templates.set(l.id, l.tiles); });
    for (var i = 0; i < list.tiles.length; i += 6) {
      busy(true, t('imagery_downloading', { k: i, n: list.tiles.length }));
      await Promise.all(list.tiles.slice(i, i + 6).map(async function (tile) {
        var url = templates.get(tile[0]).replace('{z}', tile[1]).replace('{x}', tile[2]).replace('{y}', tile[3]);
        if (await cache.match(url)) return;
        var response = await fetch(url, { credentials: 'same-origin', headers: { 'X-Take-Tile': '1' } });
        if (response.ok && !response.headers.get('X-Empty-Tile')) await cache.put(url, response);
      }));
    }
    // Shown no finer than what was taken: beyond it, Leaflet scales the finest tile the phone has.
    meta.imagery = list.layers.map(function (l) {
      return { id: l.id, name: l.name, date: l.date, label: l.label, tiles: l.tiles, count: l.count, bounds: l.bounds,
               min_zoom: Math.max(12, l.min_zoom), max_zoom: Math.min(l.max_zoom, filters.imagery_zoom) };
    });
    meta.imagery_zoom = filters.imagery_zoom;
    await idb.put('meta', meta);
  }

  function imageryHeld() {
    var byId = new Map();
    state.packages.forEach(function (p) { (p.imagery || []).forEach(function (l) { byId.set(l.id, l); }); });
    return Array.from(byId.values()).sort(function (a, b) { return a.date < b.date ? 1 : -1; });
  }

  // Newest first on download; the button steps through the layers, then off.
  function showImagery(step) {
    var layers = imageryHeld(), button = $('field-imagery');
    if (state.imageryShown === undefined || state.imageryShown >= layers.length || !state.imageryHeld) {
      state.imageryShown = layers.length ? 0 : -1;
    }
    state.imageryHeld = layers.length;
    if (step) state.imageryShown = state.imageryShown + 1 >= layers.length ? -1 : state.imageryShown + 1;
    if (imageryLayer) { map.removeLayer(imageryLayer); imageryLayer = null; }
    var layer = layers[state.imageryShown];
    button.hidden = !layers.length;
    button.textContent = layer ? t('imagery_on', { name: layer.date + ' ' + (layer.label || layer.name) }) : t('imagery_off');
    if (!layer) return;
    imageryLayer = L.tileLayer(layer.tiles, { maxNativeZoom: layer.max_zoom, minNativeZoom: layer.min_zoom, maxZoom: 21,
                                              bounds: [[layer.bounds[1], layer.bounds[0]], [layer.bounds[3], layer.bounds[2]]] });
    imageryLayer.addTo(map).bringToBack();
  }

  async function imagerySize() {
    var zoom = $('choose-imagery').value, out = $('choose-imagery-size');
    if (!zoom) { out.textContent = ''; return; }
    var list = await getJson('/api/v1/field/imagery' + withZoom(query(chosen()), zoom));
    out.textContent = t('imagery_size', { n: list.count, size: sizeText(list.bytes) });
  }

  // Only what changed since each package's version: changed patches replace theirs, those that left go.
  async function refresh(only) {
    if (!state.packages.length) return download();
    busy(true, t('downloading'));
    try {
      var changed = 0, removed = 0;
      for (var pkg of only ? [only] : state.packages.slice()) {
        var answer = await refreshOne(pkg);
        changed += answer.patches.length;
        removed += answer.removed.length;
      }
      afterPackage(t('refreshed', { changed: changed, removed: removed }), false);
    } catch (error) {
      showProblem(error.loginNeeded ? t('login_again') : t('download_failed', { reason: error.message }), error.loginNeeded);
    } finally {
      busy(false);
    }
  }

  async function refreshOne(pkg) {
    var answer = await getJson('/api/v1/field/package' + query(pkg.filters || {}, pkg.version));
    var patches = parsed(answer.patches), lineages = new Set(pkg.lineages);
    patches.forEach(function (p) { state.patches.set(p.lineage_id, p); lineages.add(p.lineage_id); });
    answer.removed.forEach(function (id) { lineages.delete(id); });
    await idb.putAll('patches', patches);
    Object.assign(pkg, { version: answer.version, refreshed_at: new Date().toISOString(), lineages: Array.from(lineages),
                         review_sources: answer.review_sources || pkg.review_sources });
    await idb.put('meta', pkg);
    adopt(state.packages);
    await dropUnheld(answer.removed);
    return answer;
  }

  // A package goes only when nothing waiting in the outbox needs a patch only it holds.
  async function removePackage(pkg) {
    var others = state.packages.filter(function (p) { return p !== pkg; });
    var kept = new Set();
    others.forEach(function (p) { p.lineages.forEach(function (id) { kept.add(id); }); });
    var waiting = state.outbox.filter(function (item) { return !kept.has(item.lineage_id) && pkg.lineages.indexOf(item.lineage_id) >= 0; });
    if (waiting.length) return showProblem(t('package_waiting', { n: waiting.length }));
    if (!confirm(t('package_remove_confirm', { scope: scopeText(pkg.filters || {}) }))) return;
    await idb.remove('meta', pkg.name);
    adopt(others);
    await dropUnheld(pkg.lineages);
    afterPackage(t('package_removed'), true);
  }

  function afterPackage(message, refit) {
    closeSheet();
    closePanel();
    drawAll();
    showImagery();
    if (refit) fit();
    showPackage();
    showProblem(null);
    toast(message);
  }

  function when(iso) {
    var d = new Date(iso);
    return dayOf(d) + ' ' + two(d.getHours()) + ':' + two(d.getMinutes());
  }

  function sizeText(bytes) {
    var n = Number(bytes || 0);
    return n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : Math.max(1, Math.round(n / 1024)) + ' KB';
  }

  function scopeText(filters) {
    var names = (filters.village_names || []).join('、');
    return [names || t('scope_all'), filters.source_label, filters.batch].filter(Boolean).join(' · ');
  }

  function showPackage() {
    var box = $('field-package');
    box.textContent = '';
    if (!state.packages.length) { box.appendChild(element('li', t('no_package'), 'field-muted')); return; }
    state.packages.forEach(function (pkg) {
      var parts = [t('package_info', { n: pkg.lineages.length, when: when(pkg.downloaded_at) }), sizeText(pkg.bytes),
                   t('package_scope', { scope: scopeText(pkg.filters || {}) })];
      if (pkg.refreshed_at) parts.push(t('package_refreshed', { when: when(pkg.refreshed_at) }));
      var li = element('li', parts.join(' · '));
      li.appendChild(itemButton(t('refresh'), function () { refresh(pkg); }, true));
      li.appendChild(itemButton(t('package_remove'), function () { removePackage(pkg); }, true));
      box.appendChild(li);
    });
  }

  // --- choosing what to download ----------------------------------------------------------

  function checkbox(name, value, label, checked) {
    var box = element('label', undefined, 'field-check'), input = element('input');
    input.type = 'checkbox';
    input.name = name;
    input.value = value;
    input.checked = checked;
    input.dataset.label = label;
    box.appendChild(input);
    box.appendChild(document.createTextNode(' ' + label));
    return box;
  }

  function fillChoices(choices) {
    var villages = $('choose-villages'), statuses = $('choose-statuses'), batch = $('choose-batch');
    villages.querySelectorAll('label').forEach(function (n) { n.remove(); });
    statuses.querySelectorAll('label').forEach(function (n) { n.remove(); });
    choices.villages.forEach(function (v) { villages.appendChild(checkbox('village', v.code, v.name + '（' + v.patches + '）', true)); });
    Object.keys(choices.statuses).forEach(function (k) {
      statuses.appendChild(checkbox('status', k, choices.statuses[k], choices.default_statuses.indexOf(k) >= 0));
    });
    fillSelect($('choose-source'), Object.keys(choices.sources).map(function (k) { return [k, choices.sources[k]]; }));
    fillSelect(batch, choices.batches.map(function (b) { return [b.batch, b.batch + '（' + b.patches + '）']; }));
    showSize(choices.package);
  }

  function fillSelect(select, pairs) {
    select.querySelectorAll('option:not([value=""])').forEach(function (n) { n.remove(); });
    pairs.forEach(function (pair) {
      var option = element('option', pair[1]);
      option.value = pair[0];
      select.appendChild(option);
    });
  }

  function chosen() {
    var ticked = function (id) { return Array.from($(id).querySelectorAll('input:checked')); };
    var villages = ticked('choose-villages'), all = $('choose-villages').querySelectorAll('input').length;
    var some = villages.length < all;
    return { villages: some ? villages.map(function (i) { return i.value; }) : [],
             village_names: some ? villages.map(function (i) { return i.dataset.label.replace(/（\d+）$/, ''); }) : [],
             statuses: ticked('choose-statuses').map(function (i) { return i.value; }),
             batch: $('choose-batch').value || null,
             source_label: $('choose-source').value ? $('choose-source').selectedOptions[0].textContent : null,
             source: $('choose-source').value || null, imagery_zoom: Number($('choose-imagery').value) || null };
  }

  function showSize(pkg) {
    $('choose-size').textContent = t('choose_size', { n: pkg.patches, size: sizeText(pkg.bytes) });
  }

  // Ticking boxes quickly sends several questions: only the answer to the last one is shown.
  var choicesAsked = 0;

  async function loadChoices(first) {
    if (!navigator.onLine) { $('choose-size').textContent = t('choose_offline'); return; }
    var asked = ++choicesAsked;
    try {
      var answer = await getJson('/api/v1/field/choices' + (first ? '' : query(chosen())));
      if (asked !== choicesAsked) return;
      if (first) fillChoices(answer); else showSize(answer.package);
      if (!first) await imagerySize();
    } catch (error) {
      showProblem(error.loginNeeded ? t('login_again') : t('download_failed', { reason: error.message }), error.loginNeeded);
    }
  }

  function downloadChosen() {
    var filters = chosen();
    filters.villages = filters.villages || [];
    return download(filters);
  }

  // --- leaving: nothing of the package or the outbox stays for the next person on this phone ----

  async function logoutWiping(event) {
    event.preventDefault();
    if (state.outbox.length && !confirm(t('wipe_confirm', { n: state.outbox.length }))) return;
    var form = event.target;
    try { form.elements.csrf_token.value = await session(); } catch (lapsed) { /* the page's token is tried */ }
    for (var name of ['meta', 'patches', 'outbox', 'photos']) await run(name, 'readwrite', function (st) { return st.clear(); });
    if (window.caches) await caches.delete(TILES);
    form.submit();
  }

  // --- the frame: menu, messages, network -----------------------------------------------

  var toastTimer = null;

  function toast(text) {
    var box = $('field-toast');
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 4000);
  }

  function showProblem(text, withLogin) {
    var box = $('field-problem');
    box.textContent = text || '';
    box.hidden = !text;
    if (withLogin) {
      var link = element('a', t('login_link'));
      link.href = '/login?next=' + encodeURIComponent('/field');
      box.appendChild(document.createTextNode(' '));
      box.appendChild(link);
      openPanel();
    }
  }

  function busy(on, text) {
    ['field-download', 'field-sync', 'field-refresh', 'choose-download'].forEach(function (id) { $(id).disabled = on; });
    if (on) toast(text);
  }

  function openPanel() {
    showNearby();
    $('field-panel').hidden = false;
    $('field-menu').setAttribute('aria-expanded', 'true');
  }

  function closePanel() {
    $('field-panel').hidden = true;
    $('field-menu').setAttribute('aria-expanded', 'false');
  }

  function togglePanel() {
    if ($('field-panel').hidden) openPanel(); else closePanel();
  }

  function showNetwork() { $('field-net').hidden = navigator.onLine; }

  function wire() {
    $('field-menu').addEventListener('click', togglePanel);
    $('field-download').addEventListener('click', function () { download(); });
    $('field-refresh').addEventListener('click', refresh);
    $('field-locate').addEventListener('click', locate);
    $('field-choose').addEventListener('toggle', function () { if ($('field-choose').open) loadChoices(true); });
    $('choose-check').addEventListener('click', function () { loadChoices(false); });
    $('field-choose').addEventListener('change', function () { loadChoices(false); });
    $('choose-download').addEventListener('click', downloadChosen);
    $('field-logout').addEventListener('submit', logoutWiping);
    $('sheet-submit').addEventListener('click', function () { openForm('submit-form'); });
    $('draw-undo').addEventListener('click', function () { state.drawing.ring.pop(); showDrawing(); });
    $('draw-done').addEventListener('click', function () { stopDrawing(true); });
    $('draw-cancel').addEventListener('click', function () { stopDrawing(false); });
    FORMS.forEach(function (kind) {
      var form = $(kind + '-form');
      form.elements.photos.addEventListener('change', function () { stagePhotos(form); });
    });
    $('rectify-form').elements.how.addEventListener('change', function () {
      state.drawn = null;
      showHow($('rectify-form'), state.patches.get(state.selected));
    });
    $('rectify-form').querySelector('[data-draw]').addEventListener('click', startDrawing);
    $('field-sync').addEventListener('click', function () { sync(); });
    $('field-fit').addEventListener('click', function () { fit(); togglePanel(); });
    $('field-imagery').addEventListener('click', function () { showImagery(true); togglePanel(); });
    $('sheet-verify').addEventListener('click', function () { openForm('verify-form'); });
    $('sheet-rectify').addEventListener('click', function () { openForm('rectify-form'); });
    document.querySelectorAll('[data-close]').forEach(function (b) {
      b.addEventListener('click', function () { if (b.dataset.close === 'field-sheet') closeSheet(); else togglePanel(); });
    });
    document.querySelectorAll('[data-cancel]').forEach(function (b) { b.addEventListener('click', hideForms); });
    FORMS.forEach(function (kind) {
      $(kind + '-form').addEventListener('submit', function (e) { e.preventDefault(); record(kind, e.target); });
    });
    window.addEventListener('online', function () { showNetwork(); sync(true); });
    window.addEventListener('offline', showNetwork);
  }

  // The worker lives at /field/sw.js; its scope is widened to /field (the server allows it) to cover the page.
  async function registerWorker() {
    try {
      await navigator.serviceWorker.register('/field/sw.js', { scope: '/field' });
    } catch (unsupported) {     // no service worker (no HTTPS): everything works, but only while the page is open
      toast(t('no_offline'));
    }
  }

  // Whether /field would open now in airplane mode: the worker is active and holds the page.
  async function offlineReady() {
    await navigator.serviceWorker.ready;
    for (var name of await caches.keys()) {
      if (name.indexOf('field-') === 0 && await (await caches.open(name)).match('/field')) return true;
    }
    return false;
  }

  function drawnOf(ref) {
    return Array.from(drawn.values()).find(function (d) { return d.patch.ref === ref; });
  }

  // Where a patch's dot (its centroid) is on the page, for a finger or a test to tap.
  function pointOf(ref) {
    var d = drawnOf(ref);
    if (!d) return null;
    var p = map.latLngToContainerPoint(d.centre), box = $('field-map').getBoundingClientRect();
    return { x: p.x + box.left, y: p.y + box.top };
  }

  // What the page tells scripts (and tests) about itself.
  window.fieldApp = {
    ready: false, patchCount: function () { return drawn.size; }, imagery: function () { return imageryHeld(); }, outboxCount: function () { return state.outbox.length; },
    dotCount: function () { return Array.from(drawn.values()).filter(function (d) { return patchLayer.hasLayer(d.dot); }).length; },
    pointOf: pointOf, offlineReady: offlineReady, sync: sync, download: download, refresh: refresh, fit: fit,
    pointAt: function (lon, lat) {
      var p = map.latLngToContainerPoint(L.latLng(lat, lon)), box = $('field-map').getBoundingClientRect();
      return { x: p.x + box.left, y: p.y + box.top };
    },
    refs: function () { return Array.from(state.patches.values()).map(function (p) { return p.ref; }); },
    lonLatAt: function (x, y) {
      var box = $('field-map').getBoundingClientRect(), at = map.containerPointToLatLng(L.point(x - box.left, y - box.top));
      return [at.lng, at.lat];
    },
    selected: function () { return state.selected === null ? null : state.patches.get(state.selected).ref; },
    zoomTo: function (ref) {
      var d = drawnOf(ref);
      if (d) map.fitBounds(d.bounds, { maxZoom: 18, animate: false });
    }
  };

  async function start() {
    wire();
    showNetwork();
    if ('serviceWorker' in navigator) registerWorker(); else toast(t('no_offline'));
    await load();
    drawAll();
    showImagery();
    fit();
    showPackage();
    showOutbox();
    watchPosition();
    if (!state.pkg) openPanel();
    window.fieldApp.ready = true;
    if (navigator.onLine) sync(true);
  }

  start();
}());
