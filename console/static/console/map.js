/* The dashboard's map of outlets by completeness (Leaflet, served by the app). Each view
   asks map.json (the same answer as GET /api/pro/v1/quality/map, for this account's
   jurisdiction) for the outlets in the box: grid cells with their count and mean score when
   zoomed out, single outlets from street level. Names go in as text nodes, never markup;
   with no tile layer configured the outlets stand on a plain background. */
(function () {
  "use strict";
  var el = document.getElementById("outlet-map");
  var source = document.getElementById("map-settings");
  if (!el || !source || typeof L === "undefined") { return; }
  var settings = JSON.parse(source.textContent);
  var b = settings.bounds;
  var map = L.map(el, { attributionControl: Boolean(settings.tiles), minZoom: 6, maxZoom: 18 });
  if (settings.tiles) {
    L.tileLayer(settings.tiles, { attribution: settings.attribution, maxZoom: 18 }).addTo(map);
  }
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]]);
  var layer = L.layerGroup().addTo(map);
  var pending = null;
  var asked = 0;

  function grade(score) { return score >= 80 ? "good" : score >= 60 ? "fair" : "poor"; }

  function text(content) {
    var span = document.createElement("span");
    span.textContent = content;
    return span;
  }

  function outlet(p) {
    var marker = L.circleMarker([p.lat, p.lng], {
      radius: 6, weight: 1, color: "#fff", fillOpacity: 0.9, className: "outlet " + grade(p.score)
    });
    marker.bindTooltip(text(p.name + "  得分 " + p.score));
    marker.on("click", function () {
      window.location.href = "institutions/" + encodeURIComponent(p.fi_code);
    });
    return marker;
  }

  function cell(p) {
    var size = p.outlets >= 500 ? "l" : p.outlets >= 50 ? "m" : "s";
    var marker = L.marker([p.lat, p.lng], {
      icon: L.divIcon({ className: "cell " + grade(p.score) + " " + size, html: "", iconSize: null })
    });
    marker.on("add", function () {
      var node = marker.getElement();
      if (node) { node.textContent = String(p.outlets); }
    });
    marker.bindTooltip(text(p.outlets + " 个网点，平均得分 " + p.score));
    marker.on("click", function () { map.setView([p.lat, p.lng], Math.min(map.getZoom() + 2, 18)); });
    return marker;
  }

  function draw(answer) {
    layer.clearLayers();
    var total = 0;
    answer.items.forEach(function (p) {
      total += p.outlets;
      layer.addLayer(p.outlets === 1 && p.fi_code ? outlet(p) : cell(p));
    });
    el.setAttribute("data-total", String(total));
    el.setAttribute("data-points", String(answer.items.length));
    el.setAttribute("data-cell", answer.cell_deg === null ? "" : String(answer.cell_deg));
  }

  function load() {
    var box = map.getBounds();
    var query = [
      "min_lat=" + box.getSouth().toFixed(6), "min_lng=" + box.getWest().toFixed(6),
      "max_lat=" + box.getNorth().toFixed(6), "max_lng=" + box.getEast().toFixed(6),
      "zoom=" + map.getZoom(), "coord=" + settings.coord
    ].join("&");
    var mine = ++asked;
    el.removeAttribute("data-points");
    fetch(settings.url + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }  // to sign-in
        return response.ok ? response.json() : null;
      })
      .then(function (answer) { if (answer && mine === asked) { draw(answer); } });
  }

  map.on("moveend", function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(load, 150);
  });
  load();
  window.consoleMap = map;  // for the tests, which zoom it
}());
