/* Keeps a boosted page as true as a full page load (served from our origin; CSP forbids inline script).
   htmx swaps the new page's body and title but leaves <html lang> alone: screen readers would
   speak an English page with a Polish voice after the language switch. */
(function () {
  "use strict";
  var LANG = /<html\b[^>]*\blang="([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)"/;

  document.addEventListener("htmx:afterSwap", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (!xhr || typeof xhr.responseText !== "string") return;
    var match = LANG.exec(xhr.responseText.slice(0, 2048));
    if (match) document.documentElement.lang = match[1];
  });

  // a choice that limits the next input's length (the correction form: a name allows 100
  // characters, a tax ID 20): the input gets that limit, as the server checks it
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select || select.tagName !== "SELECT" || !select.form) return;
    var option = select.options[select.selectedIndex];
    var limit = option && option.getAttribute("data-maxlength");
    var input = limit && select.form.querySelector("input[name=value]");
    if (input) input.maxLength = parseInt(limit, 10);
  });

  // history snapshots of earlier htmx versions held whole private pages; none may outlive a visit
  try { window.sessionStorage.removeItem("htmx-history-cache"); } catch (e) { /* storage disabled */ }
})();
