// Dark mode: follows the system unless the reader picked a theme on this site. Runs in <head>
// so the page never flashes the wrong theme; site.js re-themes the charts when it changes.
(function () {
  var saved = null;
  try { saved = localStorage.getItem("theme"); } catch (e) { /* file:// may block storage */ }
  var dark = saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    button.addEventListener("click", function () {
      var next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
      document.documentElement.dataset.theme = next;
      try { localStorage.setItem("theme", next); } catch (e) { /* not persisted */ }
    });
  });
})();
