// the interactive API docs (swagger-ui, served from the swagger-ui-bundle package): an
// external script, so the page needs no inline script under its Content-Security-Policy
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
