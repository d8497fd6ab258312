/* Management dashboard: ECharts bar, line and pie charts from the page's JSON block; PNG download; print. */
(function () {
  "use strict";
  var MAX_SERIES = 8;

  function readData() {
    var block = document.getElementById("dashboard-data");
    return block ? JSON.parse(block.textContent) : null;
  }

  function topDepartments(data) {
    // Totals come sorted by completed tasks: the busiest departments get a line of their own.
    return data.totals.map(function (t) { return t.department; }).slice(0, MAX_SERIES);
  }

  function handlingOption(data) {
    var names = topDepartments(data);
    var series = names.map(function (name) {
      var byPeriod = {};
      data.rows.forEach(function (r) {
        if (r.department === name) { byPeriod[r.period] = r.avg_handling_s; }
      });
      return {
        name: name, type: "line", connectNulls: false, symbolSize: 5,
        data: data.periods.map(function (p) {
          var v = byPeriod[p];
          return v === null || v === undefined ? null : Math.round(v / 36) / 100;
        })
      };
    });
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.periods },
      yAxis: { type: "value", name: data.labels.hours },
      series: series
    };
  }

  function completionOption(data) {
    var totals = data.totals.filter(function (t) { return t.completion_rate !== null; });
    return {
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
      grid: { left: 50, right: 20, top: 20, bottom: 90 },
      xAxis: { type: "category", data: totals.map(function (t) { return t.department; }),
               axisLabel: { rotate: 40, interval: 0 } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{ name: data.labels.completion, type: "bar", itemStyle: { color: "#1f4fa3" },
                 data: totals.map(function (t) { return Math.round(t.completion_rate * 1000) / 10; }) }]
    };
  }

  function sharingOption(data) {
    var slices = data.totals.filter(function (t) { return t.sharing_events > 0; })
      .map(function (t) { return { name: t.department, value: t.sharing_events }; })
      .sort(function (a, b) { return b.value - a.value; });
    return {
      animation: false,
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { type: "scroll", orient: "vertical", right: 0, top: 10, bottom: 10 },
      series: [{ name: data.labels.sharing, type: "pie", radius: ["30%", "65%"], center: ["38%", "52%"],
                 data: slices, label: { show: slices.length <= 12 } }]
    };
  }

  var BUILDERS = { handling: handlingOption, completion: completionOption, sharing: sharingOption };

  function download(chart, key) {
    var url = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
    var link = document.createElement("a");
    link.href = url;
    link.download = "huitong-" + key + "-" + new Date().toISOString().slice(0, 10) + ".png";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function start() {
    var data = readData();
    if (!data || typeof echarts === "undefined") { return; }
    var charts = {};
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var key = box.getAttribute("data-chart");
      var chart = echarts.init(box, null, { renderer: "canvas" });
      chart.setOption(BUILDERS[key](data));
      charts[key] = chart;
    });
    document.querySelectorAll("[data-png]").forEach(function (button) {
      button.addEventListener("click", function () {
        var key = button.getAttribute("data-png");
        if (charts[key]) { download(charts[key], key); }
      });
    });
    var print = document.getElementById("print-page");
    if (print) { print.addEventListener("click", function () { window.print(); }); }
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    });
    // Charts are sized for the screen; resize them to the paper before printing and back after.
    window.addEventListener("beforeprint", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize({ width: 640 }); });
    });
    window.addEventListener("afterprint", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    });
    document.documentElement.setAttribute("data-charts-ready", "true");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
