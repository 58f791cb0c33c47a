/* The field app's service worker (served as /field/sw.js, scope /field): the app shell from the
   cache so that /field opens in airplane mode, and the imagery tiles a package took out (影像, in
   their own cache, kept across releases). The API is never touched: its answers must be live. */
'use strict';
var CACHE = 'field-__VERSION__';
var SHELL = __SHELL__;
var PAGE = '/field';
var TILES = 'imagery-tiles';
// A page that takes longer than this on a weak signal is served from the cache instead.
var PAGE_WAIT_MS = 5000;

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    var assets = SHELL.filter(function (path) { return path !== PAGE; });
    return cache.addAll(assets).then(function () { return keepPage(cache, fetch(PAGE)); });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.indexOf('field-') === 0 && name !== CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (event) {
  var url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname === PAGE) event.respondWith(page(event.request));
  else if (SHELL.indexOf(url.pathname) >= 0) event.respondWith(asset(event.request));
  else if (url.pathname.indexOf('/imagery/') === 0) event.respondWith(tile(event.request));
});

// Only the app itself is kept: never a login page a lapsed session was redirected to.
function keepPage(cache, answer) {
  return answer.then(function (response) {
    if (response.ok && !response.redirected && response.type === 'basic') {
      return cache.put(PAGE, response.clone()).then(function () { return response; });
    }
    return response;
  });
}

// Online, the page comes fresh (a new CSRF token, a new release); offline or slow, from the cache.
function page(request) {
  var fresh = caches.open(CACHE).then(function (cache) { return keepPage(cache, fetch(request)); });
  var cached = caches.match(PAGE, { ignoreSearch: true });
  var slow = new Promise(function (resolve) { setTimeout(resolve, PAGE_WAIT_MS); }).then(function () { return cached; });
  return Promise.race([fresh, slow]).then(function (response) { return response || fresh; })
    .catch(function () { return cached.then(function (response) { return response || Response.error(); }); });
}

function asset(request) {
  return caches.match(request, { ignoreSearch: true }).then(function (hit) { return hit || fetch(request); });
}

// A tile the phone took out answers from its cache; any other from the server, and without signal
// an empty one (beyond the ground a package took, the map shows no image rather than an error).
var EMPTY_TILE = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==';

// A download for the cache (X-Take-Tile) goes to the server as it is: a failure must stay a failure.
function tile(request) {
  if (request.headers.get('X-Take-Tile')) return fetch(request);
  return caches.open(TILES).then(function (cache) {
    return cache.match(request).then(function (hit) { return hit || fetch(request).catch(empty); });
  });
}

function empty() {
  var bytes = Uint8Array.from(atob(EMPTY_TILE), function (c) { return c.charCodeAt(0); });
  return new Response(bytes, { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'no-store',
                                          'X-Empty-Tile': '1' } });
}
