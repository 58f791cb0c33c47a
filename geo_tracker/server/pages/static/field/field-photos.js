/* 外业: photos taken in the field. Each is kept in IndexedDB (by the app) as it was taken, with
   its SHA-256, the time, the phone's position and accuracy and, when the device tells it, the
   heading; it is uploaded in chunks that resume after a break (/api/v1/field/uploads), before the
   action that cites it is sent. */
(function () {
  'use strict';

  var CHUNK = 512 * 1024;   // small chunks: a weak signal loses less when it drops

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }

  // SHA-256 by hand only where the browser keeps WebCrypto from the page (plain http on an intranet).
  var K = [0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1,
    0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
    0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
    0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3,
    0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb,
    0xbef9a3f7, 0xc67178f2];

  function sha256Plain(bytes) {
    var n = bytes.length, total = Math.ceil((n + 9) / 64) * 64, m = new Uint8Array(total);
    m.set(bytes);
    m[n] = 0x80;
    var view = new DataView(m.buffer);
    view.setUint32(total - 8, Math.floor(n / 0x20000000));
    view.setUint32(total - 4, (n * 8) >>> 0);
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var w = new Uint32Array(64), r = function (x, k) { return (x >>> k) | (x << (32 - k)); };
    for (var off = 0; off < total; off += 64) {
      for (var i = 0; i < 64; i++) {
        w[i] = i < 16 ? view.getUint32(off + 4 * i)
          : (w[i - 16] + (r(w[i - 15], 7) ^ r(w[i - 15], 18) ^ (w[i - 15] >>> 3)) + w[i - 7] +
             (r(w[i - 2], 17) ^ r(w[i - 2], 19) ^ (w[i - 2] >>> 10))) >>> 0;
      }
      var v = h.slice();
      for (i = 0; i < 64; i++) {
        var t1 = (v[7] + (r(v[4], 6) ^ r(v[4], 11) ^ r(v[4], 25)) + ((v[4] & v[5]) ^ (~v[4] & v[6])) + K[i] + w[i]) >>> 0;
        var t2 = ((r(v[0], 2) ^ r(v[0], 13) ^ r(v[0], 22)) + ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]))) >>> 0;
        v = [(t1 + t2) >>> 0, v[0], v[1], v[2], (v[3] + t1) >>> 0, v[4], v[5], v[6]];
      }
      h = h.map(function (x, k) { return (x + v[k]) >>> 0; });
    }
    return h.map(function (x) { return x.toString(16).padStart(8, '0'); }).join('');
  }

  async function sha256(buffer) {
    if (window.crypto && crypto.subtle) return hex(await crypto.subtle.digest('SHA-256', buffer));
    return sha256Plain(new Uint8Array(buffer));
  }

  /* A photo as the app keeps it: ``fix`` is the last position ({lon, lat, accuracy_m}) or null,
     ``heading`` the compass heading in degrees or null. */
  async function take(file, fix, heading) {
    var buffer = await file.arrayBuffer();
    return { sha256: await sha256(buffer), blob: new Blob([buffer], { type: file.type }),
             file_name: file.name || 'photo.jpg', media_type: file.type || 'image/jpeg', size_bytes: buffer.byteLength,
             taken_at: new Date().toISOString(), lon: fix ? fix.lon : null, lat: fix ? fix.lat : null,
             accuracy_m: fix ? fix.accuracy_m : null, heading: heading === undefined ? null : heading };
  }

  // What an action says of a photo: everything but the bytes.
  function cited(photo) {
    return { sha256: photo.sha256, file_name: photo.file_name, taken_at: photo.taken_at, lon: photo.lon,
             lat: photo.lat, accuracy_m: photo.accuracy_m, heading: photo.heading };
  }

  async function answerOf(response) {
    var body = null;
    try { body = await response.json(); } catch (notJson) { /* keep the status */ }
    if (response.status === 401) { var e = new Error('login'); e.loginNeeded = true; throw e; }
    if (response.status === 409 && body && body.details && body.details.received_bytes !== undefined) {
      return { received_bytes: body.details.received_bytes, complete: false };
    }
    if (!response.ok) throw new Error((body && body.message) || response.status + ' ' + response.statusText);
    return body;
  }

  // Start or resume, then send the rest from where the server says it got to.
  async function upload(photo, csrf) {
    var headers = { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf };
    var answer = await answerOf(await fetch('/api/v1/field/uploads', {
      method: 'POST', credentials: 'same-origin', headers: headers,
      body: JSON.stringify({ sha256: photo.sha256, size_bytes: photo.size_bytes, file_name: photo.file_name,
                             media_type: photo.media_type }) }));
    while (!answer.complete) {
      var at = answer.received_bytes, piece = photo.blob.slice(at, Math.min(at + CHUNK, photo.size_bytes));
      answer = await answerOf(await fetch('/api/v1/field/uploads/' + photo.sha256 + '?offset=' + at, {
        method: 'PUT', credentials: 'same-origin', body: piece,
        headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/json', 'X-CSRF-Token': csrf } }));
    }
    return answer;
  }

  window.FieldPhotos = { take: take, cited: cited, upload: upload, sha256Plain: sha256Plain };
}());
