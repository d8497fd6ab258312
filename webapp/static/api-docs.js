// The interactive API docs: Swagger UI (from npm, served locally) reading our generated OpenAPI document.
(function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.spec, domNode: root, deepLinking: true });
})();
