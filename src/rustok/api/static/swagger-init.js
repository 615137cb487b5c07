// Starts Swagger UI on /docs. A file of its own rather than an inline script, so the page's
// Content-Security-Policy can forbid inline scripts. The document's URL is the page's data-openapi-url.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    displayRequestDuration: true,
    persistAuthorization: true,
    // Swagger UI would send the document to validator.swagger.io for its badge: never from here.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
