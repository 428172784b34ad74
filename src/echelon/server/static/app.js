// echelon workspace: draws the figures embedded as JSON blocks (no inline script: the pages'
// Content-Security-Policy allows scripts from this server only) when a page loads and when
// HTMX swaps a fragment in (the item × location panel), then marks the page ready.
(function () {
  "use strict";
  function config() {
    var el = document.getElementById("plotly-config");
    return el ? JSON.parse(el.textContent) : {};
  }
  function draw(root) {
    var drawn = [];
    if (typeof Plotly !== "undefined") {
      var cfg = config();
      root.querySelectorAll('script[type="application/json"][data-plot]').forEach(function (el) {
        var target = document.getElementById(el.getAttribute("data-plot"));
        if (!target || target.getAttribute("data-drawn") === "true") { return; }
        var fig = JSON.parse(el.textContent);
        drawn.push(Plotly.newPlot(target, fig.data, fig.layout, cfg).then(function () {
          target.setAttribute("data-drawn", "true");
        }));
      });
    }
    return Promise.all(drawn);
  }
  function start() {
    draw(document).then(function () { document.body.setAttribute("data-ready", "true"); });
    document.body.addEventListener("htmx:afterSettle", function (event) {
      draw(event.target);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
