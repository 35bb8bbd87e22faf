/* Every console page: says when it is ready (tests and the screenshot command wait for it).
   The dashboard's charts.js says it after drawing. */
(function () {
  "use strict";
  document.body.setAttribute("data-ready", "1");
}());
