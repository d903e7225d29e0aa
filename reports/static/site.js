// Draws every chart from its embedded JSON, keeps charts in the page's theme and applies the
// page filters (channel, date range, stream window size) by showing/hiding traces.
(function () {
  "use strict";
  var THEMES = {
    light: { fg: "#1f1f23", muted: "#6b6b76", grid: "rgba(120,120,130,0.18)", line: "#d4d4dc", hover: "#ffffff" },
    dark: { fg: "#e8e8ee", muted: "#a0a0ad", grid: "rgba(200,200,215,0.14)", line: "#3a3a44", hover: "#202027" }
  };
  var state = { channel: "", from: "", to: "", window: "60" };
  var charts = [];

  function theme() {
    return THEMES[document.documentElement.dataset.theme === "dark" ? "dark" : "light"];
  }

  function themeLayout(layout) {
    var t = theme();
    var update = {
      "font.color": t.fg, "legend.font.color": t.fg, "title.font.color": t.fg,
      "hoverlabel.bgcolor": t.hover, "hoverlabel.font.color": t.fg, "hoverlabel.bordercolor": t.line
    };
    Object.keys(layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        update[key + ".gridcolor"] = t.grid;
        update[key + ".linecolor"] = t.line;
        update[key + ".zerolinecolor"] = t.line;
        update[key + ".tickfont.color"] = t.muted;
      }
    });
    if (layout.polar) {
      update["polar.radialaxis.gridcolor"] = t.grid;
      update["polar.angularaxis.gridcolor"] = t.grid;
      update["polar.angularaxis.linecolor"] = t.line;
    }
    (layout.annotations || []).forEach(function (_, i) {
      update["annotations[" + i + "].font.color"] = t.fg;
    });
    return update;
  }

  function applyUpdate(layout, update) {
    // Same dotted paths Plotly.relayout takes, applied to the layout before the first draw.
    Object.keys(update).forEach(function (path) {
      var parts = path.replace(/\[(\d+)\]/g, ".$1").split(".");
      var node = layout;
      for (var i = 0; i < parts.length - 1; i++) {
        if (node[parts[i]] === undefined || node[parts[i]] === null) node[parts[i]] = {};
        node = node[parts[i]];
      }
      node[parts[parts.length - 1]] = update[path];
    });
  }

  function traceVisible(meta) {
    if (!meta) return true;
    if (meta.window !== undefined && String(meta.window) !== state.window) return false;
    if (meta.channel === undefined || meta.channel === null) return true;
    if (state.channel === "") return !meta.exclusive;
    return meta.channel === state.channel;
  }

  function xRange() {
    if (!state.from && !state.to) return null;
    return [state.from ? state.from + " 00:00:00" : null, state.to ? state.to + " 23:59:59" : null];
  }

  function applyFilters() {
    charts.forEach(function (el) {
      var visible = el.data.map(function (tr) { return traceVisible(tr.meta); });
      var changed = el.data.some(function (tr, i) { return (tr.visible !== false) !== visible[i]; });
      if (changed) Plotly.restyle(el, { visible: visible });
      if (el.dataset.timeseries) {
        var range = xRange();
        if (range && (range[0] === null || range[1] === null)) {
          var full = el._fullLayout.xaxis.range.map(function (v) { return String(v); });
          range = [range[0] || full[0], range[1] || full[1]];
        }
        Plotly.relayout(el, range ? { "xaxis.range": range } : { "xaxis.autorange": true });
      }
    });
    // Table rows of the picked channel within the dates; a table with data-limit shows the first
    // that many rows passing (it ships more, so a filter still fills it).
    document.querySelectorAll("table").forEach(function (table) {
      var limit = table.dataset.limit ? Number(table.dataset.limit) : Infinity;
      var shown = 0;
      table.querySelectorAll("tr[data-channel]").forEach(function (row) {
        var date = row.dataset.date || "";
        var passes = (state.channel === "" || row.dataset.channel === state.channel) &&
          (!date || ((!state.from || date >= state.from) && (!state.to || date <= state.to)));
        row.hidden = !(passes && shown < limit);
        if (!row.hidden) shown += 1;
      });
    });
  }

  function draw() {
    document.querySelectorAll("script.chart-spec").forEach(function (script) {
      var el = document.getElementById(script.dataset.for);
      var spec = JSON.parse(script.textContent);
      spec.data.forEach(function (tr) { tr.visible = traceVisible(tr.meta) ? tr.visible !== false : false; });
      applyUpdate(spec.layout, themeLayout(spec.layout));
      if (window.innerWidth < 600) {  // phones: smaller titles so they fit
        applyUpdate(spec.layout, { "title.font.size": 12, "margin.l": 40, "margin.r": 8 });
      }
      Plotly.newPlot(el, spec.data, spec.layout, { displaylogo: false, responsive: true,
        modeBarButtonsToRemove: ["select2d", "lasso2d"] });
      charts.push(el);
    });
  }

  function bindFilters() {
    document.querySelectorAll("[data-filter]").forEach(function (input) {
      var kind = input.dataset.filter;
      if (kind === "reset") {
        input.addEventListener("click", function () {
          state.from = state.to = "";
          document.querySelectorAll("input[type=date][data-filter]").forEach(function (d) { d.value = ""; });
          applyFilters();
        });
        return;
      }
      input.addEventListener("change", function () {
        if (kind === "window" && !input.checked) return;
        state[kind] = input.value;
        applyFilters();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw();
    bindFilters();
    new MutationObserver(function () {
      charts.forEach(function (el) { Plotly.relayout(el, themeLayout(el.layout)); });
    }).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  });
})();
