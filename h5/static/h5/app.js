/* 金融网点通 H5: the public finder over /api/mp/v1.
 *
 * Positions: the browser's geolocation is WGS-84, so the page asks the API in wgs84;
 * only map tiles that speak GCJ-02 (Tencent, Amap) make the map ask in gcj02, and the API
 * converts (core.coords: one coordinate module, none here). Names and addresses are set
 * with textContent only: whatever an outlet is called, it stays text.
 * The state (position, filters, search, the outlet shown, the view) lives in the URL, so a
 * link can be shared; nothing is sent anywhere but this backend.
 */
(function () {
  "use strict";

  var body = document.body;
  var API = body.dataset.api;
  var PAGE = 20;
  var RADIUS_NEAR = 5000;     // around the user's own position
  var RADIUS_PLACE = 20000;   // around a chosen district's centre
  var DAYS = ["mo", "tu", "we", "th", "fr", "sa", "su"];
  var DAY_NAMES = { mo: "周一", tu: "周二", we: "周三", th: "周四", fr: "周五", sa: "周六", su: "周日" };

  function $(id) { return document.getElementById(id); }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  // -- state in the URL ----------------------------------------------------------------------

  // pc: the system lat/lng are in (wgs84 from geolocation; a point picked on a map of
  // GCJ-02 tiles is gcj02), passed to the API as `coord`, which converts
  var KEYS = ["lat", "lng", "pc", "region", "q", "institution", "category", "business_type", "open", "o", "view", "z"];
  var state = {};
  var params = new URLSearchParams(location.search);
  KEYS.forEach(function (k) { if (params.get(k)) state[k] = params.get(k); });

  function save(push) {
    var out = new URLSearchParams();
    KEYS.forEach(function (k) { if (state[k]) out.set(k, state[k]); });
    var url = location.pathname + (out.toString() ? "?" + out.toString() : "");
    if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
  }

  function get(path, query, base) {
    var qs = query ? "?" + new URLSearchParams(query).toString() : "";
    return fetch((base || API) + path + qs, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.message || ("HTTP " + r.status));
        return data;
      });
    });
  }

  function status(text) { $("status").textContent = text || ""; }

  // -- vocabularies --------------------------------------------------------------------------

  var entities = {};  // fi_code → short name
  function fillSelect(select, items, value, label, chosen) {
    items.forEach(function (item) {
      var option = el("option", label(item));
      option.value = value(item);
      select.appendChild(option);
    });
    if (chosen) select.value = chosen;
  }

  function loadVocabularies() {
    return Promise.all([
      get("/institutions").then(function (list) {
        list.forEach(function (e) { entities[e.fi_code] = e.short_name || e.name; });
        fillSelect($("f-inst"), list, function (e) { return e.fi_code; },
          function (e) { return e.short_name || e.name; }, state.institution);
      }),
      get("/business-types").then(function (list) {
        fillSelect($("f-bt"), list, function (b) { return b.key; },
          function (b) { return b.label_zh; }, state.business_type);
      }),
    ]).then(function () {
      $("f-cat").value = state.category || "";
      $("f-open").checked = state.open === "1";
    });
  }

  function filters(query) {
    if (state.institution) query.institution = state.institution;
    if (state.category) query.category = state.category;
    if (state.business_type) query.business_type = state.business_type;
    if (state.open === "1") query.open_now = "true";
    return query;
  }

  // -- where am I ----------------------------------------------------------------------------

  function locate() {
    if (state.lat && state.lng) return Promise.resolve();
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { askWhere("此浏览器无法定位"); resolve(); return; }
      status("正在获取您的位置…");
      navigator.geolocation.getCurrentPosition(function (pos) {
        state.lat = pos.coords.latitude.toFixed(6);
        state.lng = pos.coords.longitude.toFixed(6);
        delete state.pc;
        delete state.region;
        save(false);
        resolve();
      }, function (error) {
        askWhere(error.code === 1 ? "您未允许定位" : "暂时无法获取您的位置");
        resolve();
      }, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
    });
  }

  function askWhere(why) {
    $("where").hidden = false;
    $("where-why").textContent = why + "，请选择城市和区县，我们列出那里的网点。";
    status("");
    var city = $("city");
    if (city.options.length > 1) return;
    get("/regions", { coord: "wgs84" }).then(function (cities) {
      fillSelect(city, cities, function (c) { return c.code; }, function (c) { return c.name; });
    });
  }

  function onCity() {
    var district = $("district");
    district.length = 1;
    district.disabled = !this.value;
    if (!this.value) return;
    get("/regions", { parent: this.value, coord: "wgs84" }).then(function (list) {
      district.dataset.centres = JSON.stringify(list.map(function (d) { return [d.code, d.centre]; }));
      fillSelect(district, list, function (d) { return d.code; }, function (d) { return d.name; });
    });
  }

  function onDistrict() {
    var centres = JSON.parse(this.dataset.centres || "[]");
    var chosen = centres.filter(function (c) { return c[0] === this.value; }, this)[0];
    if (!chosen || !chosen[1]) return;
    state.region = chosen[0];
    state.lat = chosen[1].lat.toFixed(6);
    state.lng = chosen[1].lng.toFixed(6);
    delete state.pc;
    save(false);
    showList();
  }

  // -- the list ------------------------------------------------------------------------------

  var cursor = null;

  function distance(m) {
    if (m === null || m === undefined) return "";
    return m < 1000 ? Math.round(m) + " 米" : (m / 1000).toFixed(1) + " 公里";
  }

  function badge(open) {
    if (open === true) return el("span", "营业中", "badge open");
    if (open === false) return el("span", "已下班", "badge closed");
    return el("span", "营业时间未知", "badge unknown");
  }

  function item(outlet) {
    var li = el("li");
    li.dataset.fiCode = outlet.fi_code;
    var a = el("a");
    a.href = "?o=" + encodeURIComponent(outlet.fi_code);
    a.addEventListener("click", function (event) { event.preventDefault(); openDetail(outlet.fi_code); });
    a.appendChild(el("div", outlet.name, "name"));
    var meta = el("div", null, "meta");
    meta.appendChild(badge(outlet.open_now));
    if (outlet.distance_m !== null) meta.appendChild(el("span", distance(outlet.distance_m), "distance"));
    meta.appendChild(el("span", entities[outlet.legal_entity_code] || "", "institution"));
    a.appendChild(meta);
    a.appendChild(el("div", outlet.address || "", "address"));
    li.appendChild(a);
    return li;
  }

  // How the chat bot reads a search text (工行, 宁行, gonghang, 中国建没): the same matching,
  // asked of the bot's API, turned into the finder's filters.
  var readings = {};
  function read(text) {
    if (!readings[text]) readings[text] = get("/read", { text: text, coord: "wgs84" }, body.dataset.botApi);
    return readings[text];
  }

  function prefix(code) {
    return /0000$/.test(code) ? code.slice(0, 2) : /00$/.test(code) ? code.slice(0, 4) : code;
  }

  function listQuery(text, limit) {
    var query = filters({ limit: limit || PAGE, coord: state.pc || "wgs84" });
    if (!text) {
      query.lat = state.lat; query.lng = state.lng;
      query.radius_m = state.region ? RADIUS_PLACE : RADIUS_NEAR;
      if (state.region) query.region = state.region;
      return Promise.resolve(["/outlets/nearby", query, null]);
    }
    return read(text).then(function (r) {
      if (r.institutions.length && !state.institution) query.institution = r.institutions.map(function (i) { return i.fi_code; }).join(",");
      if (r.business_types.length && !state.business_type) query.business_type = r.business_types.join(",");
      if (r.open_now) query.open_now = "true";
      var place = r.places[0];
      var lat = state.lat, lng = state.lng;
      if (place) {
        query.region = prefix(place.code);
        if (place.centre && !lat) {
          lat = place.centre.lat.toFixed(6); lng = place.centre.lng.toFixed(6); query.coord = "wgs84";
        }
      }
      if (lat && lng) { query.lat = lat; query.lng = lng; }
      if (r.landmark) {
        query.q = r.landmark;
        var plain = filters({ limit: query.limit, coord: state.pc || "wgs84", q: text });
        if (state.lat && state.lng) { plain.lat = state.lat; plain.lng = state.lng; }
        return ["/outlets/search", query, r, plain];  // plain: a whole name, typos and all
      }
      if (query.lat && (query.institution || query.region || query.business_type)) {
        query.radius_m = 50000;
        return ["/outlets/nearby", query, r];
      }
      query.q = text;
      return ["/outlets/search", query, r];
    }).catch(function () {
      query.q = text;
      return ["/outlets/search", query, null];
    });
  }

  function showList(more) {
    var list = $("list");
    if (!more) { list.textContent = ""; cursor = null; $("didyoumean").hidden = true; }
    if (!state.q && !(state.lat && state.lng)) { $("more").hidden = true; return Promise.resolve(); }
    status(more ? "" : "正在查找…");
    return (more && paging ? Promise.resolve(paging) : listQuery(state.q)).then(function (pq) {
      if (!more) corrected(pq[2]);
      return fetchPage(pq, more ? cursor : null, true);
    }).then(function (page) {
      page.items.forEach(function (o) { list.appendChild(item(o)); });
      cursor = page.next_cursor;
      $("more").hidden = !cursor;
      var n = list.children.length;
      if (n) status((state.q ? "“" + state.q + "”的结果" : "附近的网点") + "，共显示 " + n + " 个");
      else status(state.q ? "没有找到“" + state.q + "”。" : "附近没有符合条件的网点，试试放宽筛选。");
    }).catch(function (error) { status("查询失败：" + error.message); }).then(function () {
      body.dataset.listed = String(Number(body.dataset.listed || 0) + 1);  // for tests: drawn
    });
  }

  // The page's query, and when its words find nothing, the text searched as typed (a whole
  // outlet name with a typo is for the text search's resemblance to find).
  var paging = null;  // the list's query, for its next pages
  function fetchPage(pq, after, keep) {
    var query = Object.assign({}, pq[1]);
    if (after) query.cursor = after;
    return get(pq[0], query).then(function (page) {
      if (page.items.length || after || !pq[3]) { if (keep) paging = pq; return page; }
      if (keep) paging = ["/outlets/search", pq[3], null, null];
      return get("/outlets/search", pq[3]);
    });
  }

  function corrected(reading) {
    var hint = $("didyoumean");
    hint.hidden = true;
    if (!reading || !reading.corrections.length) return;
    var c = reading.corrections[0];
    hint.textContent = "您是不是要找“" + c.meant + "”？已按此为您查找（您输入的是“" + c.typed + "”）。";
    hint.hidden = false;
  }

  // -- search box with suggestions -----------------------------------------------------------

  var typing = null;
  function suggest() {
    var text = $("q").value.trim();
    var box = $("suggest");
    clearTimeout(typing);
    if (!text) { box.hidden = true; return; }
    typing = setTimeout(function () {
      listQuery(text, 6).then(function (pq) {
        pq[1].fields = "name,address";
        return fetchPage(pq, null);
      }).then(function (page) {
        if ($("q").value.trim() !== text) return;  // typed on meanwhile
        box.textContent = "";
        page.items.forEach(function (o) {
          var li = el("li", o.name);
          li.setAttribute("role", "option");
          li.addEventListener("mousedown", function (e) { e.preventDefault(); box.hidden = true; openDetail(o.fi_code); });
          box.appendChild(li);
        });
        box.hidden = !page.items.length;
      }).catch(function () { box.hidden = true; });
    }, 200);
  }

  function onSearch(event) {
    event.preventDefault();
    $("suggest").hidden = true;
    state.q = $("q").value.trim();
    delete state.o;
    save(true);
    show("list");
    showList();
  }

  // -- detail --------------------------------------------------------------------------------

  var shownOutlet = null;

  function openDetail(fiCode) {
    state.o = fiCode;
    save(true);
    return renderDetail();
  }

  function renderDetail() {
    show("detail");
    status("正在读取网点信息…");
    return get("/outlets/" + encodeURIComponent(state.o), { coord: "wgs84" }).then(function (o) {
      shownOutlet = o;
      status("");
      $("d-name").textContent = o.name;
      var open = $("d-open");
      open.textContent = o.open_now === true ? "营业中" : o.open_now === false ? "已下班" : "营业时间未知";
      open.className = "badge " + (o.open_now === true ? "open" : o.open_now === false ? "closed" : "unknown");
      if (o.open_now && o.closes_at) open.textContent += "，" + clock(o.closes_at) + " 下班";
      if (o.open_now === false && o.opens_next_at) open.textContent += "，" + when(o.opens_next_at) + " 开门";
      $("d-address").textContent = o.address || "";
      var phone = $("d-phone");
      phone.hidden = !o.phone;
      if (o.phone) { phone.textContent = "拨打 " + o.phone; phone.href = "tel:" + o.phone.replace(/[^0-9+]/g, ""); }
      var photo = $("d-photo");
      photo.hidden = !o.photos.length;
      if (o.photos.length) photo.src = o.photos[0].thumbnail_url;
      hours(o);
      var types = $("d-types");
      types.textContent = "";
      o.business_type_labels.forEach(function (b) { types.appendChild(el("li", b.label_zh)); });
      var links = $("d-links");
      links.textContent = "";
      o.service_links.forEach(function (s) {
        if (!s.url) return;
        var a = el("a", s.label || (s.kind === "queue" ? "在线取号" : "预约"));
        a.href = s.url;
        a.rel = "noopener";
        var li = el("li");
        li.appendChild(a);
        links.appendChild(li);
      });
      $("d-nav").hidden = !o.navigation;
      $("nav-wechat").hidden = !(o.navigation && inWeChat);
      if (o.navigation) {
        $("nav-tencent").href = o.navigation.tencent;
        $("nav-amap").href = o.navigation.amap;
        $("nav-baidu").href = o.navigation.baidu;
      }
      $("r-result").textContent = "";
    }).catch(function (error) { status("无法读取：" + error.message); });
  }

  function clock(iso) {
    var d = new Date(iso);
    return d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" });
  }

  function when(iso) {
    var d = new Date(iso);
    return d.toLocaleString("zh-CN", { weekday: "short", hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" });
  }

  function hours(o) {
    var tbody = $("d-hours").tBodies[0];
    tbody.textContent = "";
    var note = $("d-hours-note");
    note.textContent = "";
    if (!o.hours) { note.textContent = "暂无营业时间信息。"; return; }
    var today = DAYS[(new Date(new Date().toLocaleString("en-US", { timeZone: "Asia/Shanghai" })).getDay() + 6) % 7];
    DAYS.forEach(function (day) {
      var spans = (o.hours.weekly || {})[day] || [];
      var tr = el("tr");
      if (day === today) tr.className = "today";
      tr.appendChild(el("th", DAY_NAMES[day] + (day === today ? "（今天）" : "")));
      tr.appendChild(el("td", spans.length ? spans.map(function (s) { return s[0] + "–" + s[1]; }).join("，") : "休息"));
      tbody.appendChild(tr);
    });
    var notes = [];
    (o.special_days || []).forEach(function (d) {
      var label = d.kind === "makeup_workday" ? "调休上班" : d.kind === "holiday" ? "节假日" : "特别安排";
      var open = d.intervals.length ? d.intervals.map(function (s) { return s[0] + "–" + s[1]; }).join("，") : "休息";
      notes.push(d.date.slice(5).replace("-", "月") + "日 " + (d.name || label) + "：" + open + (d.verified ? "" : "（待核实）"));
    });
    notes.push("法定节假日" + (o.hours.public_holidays === "closed" ? "休息" : "按平时营业时间"));
    if (!o.hours_verified) notes.push("今天的节假日安排尚未核实，请以网点公告为准");
    note.textContent = notes.join("；") + "。";
  }

  function onReport(event) {
    event.preventDefault();
    var result = $("r-result");
    var payload = { kind: $("r-kind").value, comment: $("r-comment").value.trim() };
    fetch(API + "/outlets/" + encodeURIComponent(state.o) + "/error-reports", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload),
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.message || ("HTTP " + r.status));
        result.textContent = "感谢您的反馈！我们会尽快核实并更正。";
        $("r-comment").value = "";
      });
    }).catch(function (error) { result.textContent = "提交失败：" + error.message; });
  }

  // -- inside WeChat: wx.openLocation through the JS-SDK ----------------------------------------

  var inWeChat = /MicroMessenger/i.test(navigator.userAgent);
  var wxReady = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function weChat() {
    if (wxReady) return wxReady;
    var sdk = window.wx ? Promise.resolve() : loadScript(body.dataset.wxShim).then(function () {
      return loadScript(body.dataset.wxJs);
    });
    wxReady = sdk.then(function () {
      return get("/wechat/js-config", { url: location.href.split("#")[0] });
    }).then(function (config) {
      return new Promise(function (resolve, reject) {
        window.wx.config({ debug: false, appId: config.appId, timestamp: config.timestamp,
          nonceStr: config.nonceStr, signature: config.signature, jsApiList: config.jsApiList });
        window.wx.ready(function () { resolve(window.wx); });
        window.wx.error(function (e) { reject(new Error(e.errMsg || "wx.config")); });
      });
    });
    wxReady.catch(function () { wxReady = null; });
    return wxReady;
  }

  function navigateInWeChat() {
    var o = shownOutlet;
    if (!o || !o.navigation) return;
    weChat().then(function (wx) {
      wx.openLocation({ latitude: o.navigation.wechat.lat, longitude: o.navigation.wechat.lng,
        name: o.name, address: o.address || "", scale: 16 });
    }).catch(function (error) { status("无法在微信中打开地图：" + error.message + "，请用下方的地图链接。"); });
  }

  // -- the map -------------------------------------------------------------------------------

  var map = null;
  var layer = null;
  var mapCoord = body.dataset.tiles && body.dataset.tilesCoord === "gcj02" ? "gcj02" : "wgs84";

  function loadLeaflet() {
    if (window.L) return Promise.resolve();
    return new Promise(function (resolve, reject) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = body.dataset.leafletCss;
      document.head.appendChild(css);
      var script = document.createElement("script");
      script.src = body.dataset.leafletJs;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function showMap() {
    return loadLeaflet().then(function () {
      if (!map) {
        map = L.map("map", { zoomControl: true });
        if (body.dataset.tiles) {
          L.tileLayer(body.dataset.tiles, { attribution: body.dataset.attribution, maxZoom: 19 }).addTo(map);
        }
        layer = L.layerGroup().addTo(map);
        map.on("moveend", drawViewport);
        map.on("click", pickPoint);
      }
      var start = state.lat && state.lng ? [Number(state.lat), Number(state.lng)] : [32.0415, 118.7781];
      // the map's own system only matters for tiles; the start point is near enough either way
      map.setView(start, Number(state.z) || 14);
      map.invalidateSize();
      return drawViewport();
    });
  }

  // A point picked on the map, for who would rather not share a position.
  function pickPoint(event) {
    var here = event.latlng;
    var button = el("button", "在此处查找附近网点");
    button.type = "button";
    button.id = "pick-here";
    button.addEventListener("click", function () {
      state.lat = here.lat.toFixed(6);
      state.lng = here.lng.toFixed(6);
      state.pc = mapCoord;
      delete state.region; delete state.q; delete state.view; delete state.o;
      $("where").hidden = true;
      save(true);
      map.closePopup();
      route();
    });
    L.popup().setLatLng(here).setContent(button).openOn(map);
  }

  function drawViewport() {
    var b = map.getBounds();
    if (state.view === "map") { state.z = String(map.getZoom()); save(false); }
    var query = filters({
      min_lat: b.getSouth().toFixed(6), min_lng: b.getWest().toFixed(6),
      max_lat: b.getNorth().toFixed(6), max_lng: b.getEast().toFixed(6),
      zoom: map.getZoom(), coord: mapCoord,
    });
    return get("/outlets/viewport", query).then(function (v) {
      layer.clearLayers();
      var sum = 0;
      v.clusters.forEach(function (c) {
        sum += c.count;
        var size = 26 + Math.min(24, Math.round(Math.log(c.count) * 4));
        var icon = L.divIcon({ className: "cluster", html: "", iconSize: [size, size] });
        var marker = L.marker([c.position.lat, c.position.lng], { icon: icon, title: c.count + " 个网点", keyboard: true });
        marker.on("add", function () { marker.getElement().textContent = String(c.count); });
        marker.on("click", function () { map.setView(marker.getLatLng(), Math.min(map.getZoom() + 2, 18)); });
        layer.addLayer(marker);
      });
      v.items.forEach(function (o) {
        var marker = L.circleMarker([o.position.lat, o.position.lng], { radius: 8, color: "#b0001e", weight: 2, fillColor: "#fff", fillOpacity: 1 });
        // one pin per address: the outlet, then what stands with it (its ATMs, ...)
        var popup = el("div", null, "pin-parts");
        [o].concat(o.parts || []).forEach(function (part) {
          var line = el("div");
          var label = el("a", part.name);
          label.href = "?o=" + encodeURIComponent(part.fi_code);
          label.addEventListener("click", function (e) { e.preventDefault(); openDetail(part.fi_code); });
          line.appendChild(label);
          if (part.kind && part.kind !== "branch") line.appendChild(el("span", part.kind === "atm" ? "（ATM）" : "（自助银行）"));
          popup.appendChild(line);
        });
        marker.bindPopup(popup);
        layer.addLayer(marker);
      });
      $("map").dataset.pins = String(v.items.length);
      $("map").dataset.total = String(v.total);
      $("map").dataset.clustered = String(sum);
      $("map").dataset.mode = v.mode;
      status(v.mode === "clusters" ? "地图范围内共 " + v.total + " 个网点，放大查看" : "地图范围内 " + v.total + " 个网点");
    }).catch(function (error) { status("地图数据读取失败：" + error.message); });
  }

  // -- views ---------------------------------------------------------------------------------

  function show(view) {
    var detail = view === "detail";
    $("detail").hidden = !detail;
    $("list").hidden = detail || view === "map";
    $("more").hidden = detail || view === "map" || !cursor;
    $("filters").hidden = detail;
    $("map").hidden = view !== "map";
    $("tab-list").setAttribute("aria-pressed", String(view === "list"));
    $("tab-map").setAttribute("aria-pressed", String(view === "map"));
  }

  function route() {
    if (state.o) return renderDetail();
    if (state.view === "map") { show("map"); return showMap(); }
    show("list");
    return showList();
  }

  function onFilter() {
    state.institution = $("f-inst").value;
    state.category = $("f-cat").value;
    state.business_type = $("f-bt").value;
    state.open = $("f-open").checked ? "1" : "";
    save(false);
    if (state.view === "map" && map) drawViewport(); else showList();
  }

  $("search").addEventListener("submit", onSearch);
  $("q").addEventListener("input", suggest);
  $("q").addEventListener("blur", function () { setTimeout(function () { $("suggest").hidden = true; }, 150); });
  $("more").addEventListener("click", function () { showList(true); });
  $("city").addEventListener("change", onCity);
  $("district").addEventListener("change", onDistrict);
  ["f-inst", "f-cat", "f-bt", "f-open"].forEach(function (id) { $(id).addEventListener("change", onFilter); });
  $("back").addEventListener("click", function () { delete state.o; save(true); route(); });
  $("tab-list").addEventListener("click", function () { delete state.view; delete state.o; save(false); route(); });
  $("tab-map").addEventListener("click", function () { state.view = "map"; delete state.o; save(false); route(); });
  $("report-form").addEventListener("submit", onReport);
  $("nav-wechat").addEventListener("click", navigateInWeChat);
  window.addEventListener("popstate", function () {
    state = {};
    var p = new URLSearchParams(location.search);
    KEYS.forEach(function (k) { if (p.get(k)) state[k] = p.get(k); });
    route();
  });

  if (state.q) $("q").value = state.q;
  loadVocabularies().then(function () {
    return state.o || state.q ? null : locate();
  }).then(route).then(function () { body.dataset.ready = "1"; });
})();
