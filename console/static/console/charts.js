/* The dashboard's charts (Apache ECharts, served by the app). The figures come from the
   page itself (<script type="application/json" id="chart-data">, read as text), which the
   server computed with the same library calls as the JSON API. Names are drawn on a canvas
   and tooltips use ECharts' rich-text mode, so no name ever becomes markup. */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof echarts === "undefined") { document.body.setAttribute("data-ready", "1"); return; }
  var data = JSON.parse(source.textContent);
  var font = "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif";
  var measures = data.measures.map(function (m) { return m.label; });
  var charts = [];

  /* 中国工商银行股份有限公司 → 中国工商银行: the company form says nothing on an axis. */
  function short(name) { return String(name).replace(/(股份)?有限(责任)?公司$/, ""); }

  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

  function regions() {
    var el = document.getElementById("chart-regions");
    if (!el || !data.regions.length) { return; }
    var names = data.regions.map(function (r) { return String(r.name).replace(/^江苏省/, ""); });
    var cells = [];
    data.regions.forEach(function (r, y) {
      data.measures.forEach(function (m, x) {
        var v = r[m.key];
        cells.push([x, y, v === null ? null : Math.round(v * 1000) / 10]);
      });
    });
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      textStyle: { fontFamily: font },
      animation: false,
      tooltip: {
        renderMode: "richText",
        formatter: function (p) {
          var r = data.regions[p.value[1]];
          return names[p.value[1]] + " · " + measures[p.value[0]] + "：" +
            (p.value[2] === null ? "—" : p.value[2] + "%") + "（" + r.outlets + " 个网点）";
        }
      },
      grid: { left: 8, right: 8, top: 28, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: measures, position: "top", axisTick: { show: false },
               axisLine: { show: false }, axisLabel: { color: "#334" } },
      yAxis: { type: "category", data: names, inverse: true, axisTick: { show: false },
               axisLine: { show: false }, axisLabel: { color: "#334" } },
      visualMap: { min: 0, max: 100, calculable: false, orient: "horizontal", left: "center",
                   bottom: 0, itemHeight: 180, itemWidth: 10, text: ["100%", "0%"],
                   inRange: { color: ["#c0392b", "#f1c40f", "#27ae60"] } },
      series: [{ type: "heatmap", data: cells,
                 label: { show: true, fontSize: 11, formatter: function (p) { return p.value[2] === null ? "—" : p.value[2].toFixed(0); } },
                 itemStyle: { borderColor: "#fff", borderWidth: 2 } }]
    });
    charts.push(chart);
  }

  function institutions() {
    var el = document.getElementById("chart-institutions");
    if (!el || !data.institutions.length) { return; }
    var rows = data.institutions;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      textStyle: { fontFamily: font },
      animation: false,
      tooltip: {
        trigger: "axis", renderMode: "richText", axisPointer: { type: "shadow" },
        formatter: function (ps) {
          var r = rows[ps[0].dataIndex];
          var lines = ["第 " + r.rank + " 名 " + r.name, "得分 " + r.score + "，" + r.outlets + " 个网点"];
          data.measures.forEach(function (m) { lines.push(m.label + " " + pct(r[m.key])); });
          return lines.join("\n");
        }
      },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      yAxis: { type: "category", inverse: true, axisTick: { show: false },
               data: rows.map(function (r) { return short(r.name); }),
               axisLabel: { width: 200, overflow: "truncate", color: "#334" } },
      xAxis: { type: "value", min: 0, max: 100, splitNumber: 5 },
      series: [{ type: "bar", barMaxWidth: 14,
                 data: rows.map(function (r) {
                   var s = r.score;
                   return { value: s, itemStyle: { color: s >= 80 ? "#27ae60" : s >= 60 ? "#e6a23c" : "#c0392b" } };
                 }),
                 label: { show: true, position: "right", fontSize: 11 } }]
    });
    charts.push(chart);
  }

  regions();
  institutions();
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.body.setAttribute("data-ready", "1");
}());
