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

  var state = { pkg: null, patches: new Map(), outbox: [], selected: null, syncing: null };
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
      var request = indexedDB.open('geo_tracker_field', 1);
      request.onupgradeneeded = function () {
        var conn = request.result;
        conn.createObjectStore('meta', { keyPath: 'name' });
        conn.createObjectStore('patches', { keyPath: 'lineage_id' });
        conn.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
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
    replaceAll: function (s, values) {
      return run(s, 'readwrite', function (st) { st.clear(); values.forEach(function (v) { st.put(v); }); });
    }
  };

  // A package downloaded by someone else on this phone is not shown to this user.
  async function load() {
    var pkg = await idb.get('meta', 'package');
    state.pkg = pkg && pkg.user === data.user ? pkg : null;
    var patches = state.pkg ? await idb.all('patches') : [];
    state.patches = new Map(patches.map(function (p) { return [p.lineage_id, p]; }));
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

  function segmentDistance(p, a, b) {
    var dx = b.x - a.x, dy = b.y - a.y, len = dx * dx + dy * dy;
    var k = len ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len)) : 0;
    return Math.hypot(p.x - (a.x + k * dx), p.y - (a.y + k * dy));
  }

  // Pixels from the tap to the patch's outline, 0 inside it (even-odd over every ring).
  function distanceTo(point, polygons) {
    var inside = false, best = Infinity;
    polygons.forEach(function (rings) {
      rings.forEach(function (ring) {
        var pts = ring.map(function (ll) { return map.latLngToContainerPoint(ll); });
        for (var i = 0, j = pts.length - 1; i < pts.length; j = i++) {
          var a = pts[i], b = pts[j];
          if ((a.y > point.y) !== (b.y > point.y) && point.x < (b.x - a.x) * (point.y - a.y) / (b.y - a.y) + a.x) inside = !inside;
          best = Math.min(best, segmentDistance(point, a, b));
        }
      });
    });
    return inside ? 0 : best;
  }

  function nearTap(point, d) {
    var box = L.bounds(map.latLngToContainerPoint(d.bounds.getNorthWest()),
                       map.latLngToContainerPoint(d.bounds.getSouthEast()));
    return point.x >= box.min.x - TAP_PX && point.x <= box.max.x + TAP_PX &&
           point.y >= box.min.y - TAP_PX && point.y <= box.max.y + TAP_PX;
  }

  // Ties (inside two patches) go to the smaller one, which the larger would otherwise hide.
  function nearest(point) {
    var best = null;
    drawn.forEach(function (d) {
      if (!nearTap(point, d)) return;
      var dist = distanceTo(point, d.polygons);
      if (patchLayer.hasLayer(d.dot)) dist = Math.min(dist, point.distanceTo(map.latLngToContainerPoint(d.centre)));
      var better = !best || dist < best.dist || (dist === best.dist && d.patch.area_mu < best.d.patch.area_mu);
      if (dist <= TAP_PX && better) best = { d: d, dist: dist };
    });
    return best && best.d;
  }

  map.on('click', function (e) {
    var d = nearest(e.containerPoint);
    if (d) select(d.patch.lineage_id); else closeSheet();
  });
  map.on('zoomend', showDots);

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
      return remainingOf(patch) <= AREA_EPSILON ? 'rectified' : 'rectifying';
    }, patch.status);
  }

  function fillActions(patch) {
    var status = statusAfterOutbox(patch);
    var may = { verify: data.allowed.verify.indexOf(status) >= 0, rectify: data.allowed.rectify.indexOf(status) >= 0 };
    $('sheet-verify').disabled = !may.verify;
    $('sheet-rectify').disabled = !may.rectify;
    var refused = ['verify', 'rectify'].filter(function (k) { return !may[k]; }).map(function (k) { return t(k); });
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
  }

  function select(lineage) {
    var patch = state.patches.get(lineage);
    if (!patch) return;
    state.selected = lineage;
    closePanel();
    fillSheet(patch);
    hideForms();
    $('field-sheet').hidden = false;
    restyle();
    drawn.get(lineage).shape.bringToFront();
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
    ['verify-form', 'rectify-form'].forEach(function (id) { $(id).hidden = true; });
  }

  function openForm(id) {
    var patch = state.patches.get(state.selected), form = $(id);
    hideForms();
    form.reset();
    form.elements.on.value = today();
    form.elements.on.max = today();
    form.elements.on.min = patch.issued_on || '';
    problem(form, null);
    if (id === 'rectify-form') {
      form.querySelector('[data-remaining]').textContent = t('remaining', { remaining: remainingOf(patch).toFixed(4) });
    }
    form.hidden = false;
    form.scrollIntoView({ block: 'nearest' });
  }

  function problem(form, text) {
    var box = form.querySelector('.field-problem');
    box.hidden = !text;
    box.textContent = text || '';
  }

  // What is left to rectify as this phone sees it: the server's figure less what waits in the outbox.
  function remainingOf(patch) {
    var waiting = waitingFor(patch.lineage_id).filter(function (item) { return item.action.kind === 'rectify'; })
      .reduce(function (sum, item) { return sum + Number(item.action.area_mu || 0); }, 0);
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

  function rectifyValues(form, patch) {
    var measure = form.elements.measure.value, area = Number(form.elements.area_mu.value);
    if (!measure) return t('need_choice', { what: t('measure') });
    if (!form.elements.area_mu.value || !(area > 0)) return t('area_positive');
    var remaining = remainingOf(patch);
    if (area > remaining + AREA_EPSILON) return t('over_remaining', { remaining: remaining.toFixed(4) });
    return checkDay(patch, form.elements.on.value) || { measure: measure, area_mu: area };
  }

  async function record(kind, form) {
    var patch = state.patches.get(state.selected);
    var values = (kind === 'verify' ? verifyValues : rectifyValues)(form, patch);
    if (typeof values === 'string') return problem(form, values);
    var action = Object.assign({ key: newKey(), kind: kind, ref: patch.ref, patch_id: patch.id,
                                 row_version: patch.row_version, on: form.elements.on.value,
                                 captured_at: new Date().toISOString(), note: form.elements.note.value.trim(),
                                 photos: [] }, values);
    var item = { user: data.user, state: 'pending', lineage_id: patch.lineage_id, code: patch.patch_code, action: action };
    item.seq = await idb.put('outbox', item);
    state.outbox.push(item);
    form.hidden = true;
    showOutbox();
    fillActions(patch);
    restyle();
    toast(navigator.onLine ? t('saved') : t('wait_online'));
  }

  // --- the outbox -----------------------------------------------------------------------

  function actionText(action) {
    var what = action.kind === 'verify'
      ? t('result_short') + ' ' + (data.results[action.result] || action.result)
      : (data.measures[action.measure] || action.measure) + ' ' + t('area_short') + ' ' + mu(action.area_mu) + t('mu');
    return [t(action.kind), action.on, what, action.note].filter(Boolean).join(' · ');
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
    [[t('theirs'), theirsText(item.theirs)], [t('mine'), actionText(item.action)]].forEach(function (pair) {
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
    li.appendChild(element('div', item.code + ' · ' + actionText(item.action)));
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
    return idb.remove('outbox', item.seq);
  }

  async function drop(item) {
    await forget(item);
    afterOutboxChange();
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
      var done = await sendAll(pending, await session());
      toast(t('synced', { done: done, left: state.outbox.length }));
      showProblem(null);
      if (state.outbox.length) openPanel();
    } catch (error) {
      showProblem(error.loginNeeded ? t('login_again') : t('sync_failed', { reason: error.message }), error.loginNeeded);
    } finally {
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

  async function storePackage(pkg, bytes) {
    var patches = parsed(pkg.patches);
    var meta = { name: 'package', user: data.user, version: pkg.version, made_at: pkg.made_at, bytes: bytes,
                 downloaded_at: new Date().toISOString(), villages: parsed(pkg.villages), labels: pkg.labels };
    await idb.replaceAll('patches', patches);
    await idb.put('meta', meta);
    state.pkg = meta;
    state.patches = new Map(patches.map(function (p) { return [p.lineage_id, p]; }));
  }

  async function download() {
    busy(true, t('downloading'));
    try {
      var response = await fetch('/api/v1/field/package', { credentials: 'same-origin',
                                                             headers: { Accept: 'application/json' } });
      await storePackage(await bodyOf(response), response.headers.get('X-Package-Bytes'));
      closeSheet();
      closePanel();
      drawAll();
      fit();
      showPackage();
      showProblem(null);
      toast(t('downloaded', { n: state.patches.size }));
    } catch (error) {
      showProblem(error.loginNeeded ? t('login_again') : t('download_failed', { reason: error.message }), error.loginNeeded);
    } finally {
      busy(false);
    }
  }

  function when(iso) {
    var d = new Date(iso);
    return dayOf(d) + ' ' + two(d.getHours()) + ':' + two(d.getMinutes());
  }

  function showPackage() {
    $('field-package').textContent = state.pkg
      ? t('package_info', { n: state.patches.size, when: when(state.pkg.downloaded_at) }) : t('no_package');
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
    ['field-download', 'field-sync'].forEach(function (id) { $(id).disabled = on; });
    if (on) toast(text);
  }

  function openPanel() {
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
    $('field-download').addEventListener('click', download);
    $('field-sync').addEventListener('click', function () { sync(); });
    $('field-fit').addEventListener('click', function () { fit(); togglePanel(); });
    $('sheet-verify').addEventListener('click', function () { openForm('verify-form'); });
    $('sheet-rectify').addEventListener('click', function () { openForm('rectify-form'); });
    document.querySelectorAll('[data-close]').forEach(function (b) {
      b.addEventListener('click', function () { if (b.dataset.close === 'field-sheet') closeSheet(); else togglePanel(); });
    });
    document.querySelectorAll('[data-cancel]').forEach(function (b) { b.addEventListener('click', hideForms); });
    $('verify-form').addEventListener('submit', function (e) { e.preventDefault(); record('verify', e.target); });
    $('rectify-form').addEventListener('submit', function (e) { e.preventDefault(); record('rectify', e.target); });
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
    ready: false, patchCount: function () { return drawn.size; }, outboxCount: function () { return state.outbox.length; },
    dotCount: function () { return Array.from(drawn.values()).filter(function (d) { return patchLayer.hasLayer(d.dot); }).length; },
    pointOf: pointOf, offlineReady: offlineReady, sync: sync, download: download, fit: fit,
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
    fit();
    showPackage();
    showOutbox();
    if (!state.pkg) openPanel();
    window.fieldApp.ready = true;
    if (navigator.onLine) sync(true);
  }

  start();
}());
