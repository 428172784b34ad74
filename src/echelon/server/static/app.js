// echelon workspace: draws the figures embedded as JSON blocks (no inline script: the pages'
// Content-Security-Policy allows scripts from this server only), then marks the page ready.
(function () {
  "use strict";
  function draw() {
    var drawn = [];
    var cfgEl = document.getElementById("plotly-config");
    var config = cfgEl ? JSON.parse(cfgEl.textContent) : {};
    document.querySelectorAll('script[type="application/json"][data-plot]').forEach(function (el) {
      if (typeof Plotly === "undefined") { return; }
      var fig = JSON.parse(el.textContent);
      drawn.push(Plotly.newPlot(el.getAttribute("data-plot"), fig.data, fig.layout, config));
    });
    Promise.all(drawn).then(function () { document.body.setAttribute("data-ready", "true"); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
