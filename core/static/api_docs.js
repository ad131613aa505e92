// The interactive API docs: Swagger UI over the spec named by the page (no inline script,
// so the page keeps the Content-Security-Policy of every other page).
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: root.dataset.specUrl, dom_id: "#swagger-ui"});
})();
