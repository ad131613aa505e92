// htmx requests carry the CSRF token of the page.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
});

// The header's menu (base.html). On a wide screen tabel.css shows its content whether the
// <details> is open or not; a browser that cannot style a closed <details>
// (::details-content) has it opened here instead. On a phone, Escape or a tap outside the
// open menu closes it.
(function () {
  var menu = document.querySelector("details.site-menu");
  if (!menu) { return; }
  var wide = window.matchMedia("(min-width: 768px)");
  if (!(window.CSS && CSS.supports && CSS.supports("selector(::details-content)"))) {
    var follow = function () { menu.open = wide.matches; };
    follow();
    wide.addEventListener("change", follow);
  }
  function close() { if (menu.open && !wide.matches) { menu.open = false; return true; } return false; }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && close()) { menu.querySelector("summary").focus(); }
  });
  document.addEventListener("click", function (event) {
    if (!menu.contains(event.target)) { close(); }
  });
})();
