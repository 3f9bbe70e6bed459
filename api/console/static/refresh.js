/* The operations dashboard reloads itself while "Refresh every N seconds" is ticked
   (untick it to read at leisure: WCAG 2.2.1). Without JavaScript, reload by hand. */
"use strict";
(function () {
  var box = document.getElementById("auto-refresh");
  if (!box) return;
  var key = "consent-console-auto-refresh";
  if (window.sessionStorage.getItem(key) === "off") box.checked = false;
  box.addEventListener("change", function () {
    window.sessionStorage.setItem(key, box.checked ? "on" : "off");
  });
  var seconds = Number(box.dataset.seconds) || 30;
  window.setInterval(function () {
    if (box.checked) window.location.reload();
  }, seconds * 1000);
})();
