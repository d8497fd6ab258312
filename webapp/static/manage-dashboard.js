/* Management dashboard: ECharts line, bar and pie charts from the page's JSON block; PNG download; print.
 *
 * Readable at a glance: department names are long, so the completion chart is a horizontal bar chart
 * (names on the vertical axis, never rotated or overlapping) whose height follows the number of
 * departments; legends sit below the plot, never over an axis. A downloaded PNG carries the chart's
 * title and when it was made (titledOption adds them to a copy of the chart for the export only).
 */
(function () {
  "use strict";
  var MAX_SERIES = 8;

  function readData() {
    var block = document.getElementById("dashboard-data");
    return block ? JSON.parse(block.textContent) : null;
  }

  function topDepartments(data) {
    // Totals come sorted by completed tasks: the busiest departments get a line of their own.
    return data.totals.slice(0, MAX_SERIES);
  }

  function handlingOption(data) {
    var names = topDepartments(data);
    var series = names.map(function (total) {
      var byPeriod = {};
      data.rows.forEach(function (r) {
        if (r.department_id === total.department_id) { byPeriod[r.period] = r.avg_handling_s; }
      });
      return {
        name: total.department, type: "line", connectNulls: false, symbolSize: 5,
        data: data.periods.map(function (p) {
          var v = byPeriod[p];
          return v === null || v === undefined ? null : Math.round(v / 36) / 100;
        })
      };
    });
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", bottom: 0, left: "center" },
      grid: { left: 12, right: 20, top: 30, bottom: 56, containLabel: true },
      xAxis: { type: "category", data: data.periods, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", name: data.labels.hours, nameLocation: "end", nameGap: 12 },
      series: series
    };
  }

  function completionOption(data) {
    // Lowest rate on top: the departments that need a look come first; the axis starts where the data
    // does, so 96 % and 99 % do not look alike.
    var totals = data.totals.filter(function (t) { return t.completion_rate !== null; })
      .sort(function (a, b) { return b.completion_rate - a.completion_rate; });
    var values = totals.map(function (t) { return Math.round(t.completion_rate * 1000) / 10; });
    var low = values.length ? Math.max(0, Math.floor((Math.min.apply(null, values) - 5) / 10) * 10) : 0;
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return v + "%"; } },
      grid: { left: 12, right: 48, top: 10, bottom: 24, containLabel: true },
      yAxis: { type: "category", data: totals.map(function (t) { return t.department; }),
               axisLabel: { interval: 0, width: 120, overflow: "truncate" } },
      xAxis: { type: "value", min: low, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{ name: data.labels.completion, type: "bar", itemStyle: { color: "#1f4fa3" }, barMaxWidth: 18,
                 label: { show: true, position: "right", formatter: "{c}%" }, data: values }]
    };
  }

  function sharingOption(data) {
    var slices = data.totals.filter(function (t) { return t.sharing_events > 0; })
      .map(function (t) { return { name: t.department, value: t.sharing_events }; })
      .sort(function (a, b) { return b.value - a.value; });
    return {
      animation: false,
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { type: "scroll", bottom: 0, left: "center" },
      series: [{ name: data.labels.sharing, type: "pie", radius: ["28%", "58%"], center: ["50%", "44%"],
                 data: slices, label: { show: slices.length <= 8 }, avoidLabelOverlap: true }]
    };
  }

  var BUILDERS = { handling: handlingOption, completion: completionOption, sharing: sharingOption };

  // The option of a chart for its PNG: the same chart with its title and the time it was made on top.
  function titledOption(option, title, generated) {
    var copy = Object.assign({}, option);
    copy.title = { text: title, subtext: generated, left: "center", top: 0,
                   textStyle: { fontSize: 16, fontWeight: "bold" }, subtextStyle: { fontSize: 11 } };
    var grid = Object.assign({}, option.grid || {});
    grid.top = (grid.top || 20) + 48;
    if (option.grid) { copy.grid = grid; }
    if (option.series && option.series[0] && option.series[0].type === "pie") {
      copy.series = option.series.map(function (s) { return Object.assign({}, s, { center: ["50%", "56%"] }); });
    }
    return copy;
  }

  // The PNG of a chart, drawn off screen with its title: the chart on the page stays as it is.
  function pngOf(key, data, title) {
    var source = document.querySelector("[data-chart='" + key + "']");
    var box = document.createElement("div");
    box.style.width = Math.max(source.clientWidth, 640) + "px";
    box.style.height = (source.clientHeight + 60) + "px";
    box.style.position = "absolute";
    box.style.left = "-10000px";
    document.body.appendChild(box);
    var chart = echarts.init(box, null, { renderer: "canvas" });
    chart.setOption(titledOption(BUILDERS[key](data), title, data.labels.generated));
    var url = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
    var option = chart.getOption();
    chart.dispose();
    box.remove();
    return { url: url, title: option.title && option.title[0] ? option.title[0].text : "" };
  }

  function download(url, key) {
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
      if (key === "completion") {
        // One 28 px row per department: names never overlap, however many departments there are.
        var rows = data.totals.filter(function (t) { return t.completion_rate !== null; }).length;
        box.style.height = Math.max(240, 40 + rows * 28) + "px";
      }
      var chart = echarts.init(box, null, { renderer: "canvas" });
      chart.setOption(BUILDERS[key](data));
      charts[key] = chart;
    });
    var titleOf = function (key) {
      var caption = document.querySelector("[data-chart-title='" + key + "']");
      return caption ? caption.textContent.trim() : "";
    };
    document.querySelectorAll("[data-png]").forEach(function (button) {
      button.addEventListener("click", function () {
        var key = button.getAttribute("data-png");
        if (charts[key]) { download(pngOf(key, data, titleOf(key)).url, key); }
      });
    });
    // For tests: the PNG a download would save, and the title drawn on it.
    window.huitongDashboard = { png: function (key) { return pngOf(key, data, titleOf(key)); }, charts: charts };
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
