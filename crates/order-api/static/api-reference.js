// Starts Swagger UI over this instance's OpenAPI document. A file of its own because the page's
// Content Security Policy runs no inline script.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    // Deep links put a link inside each operation's button, which screen readers cannot reach.
    deepLinking: false,
    // No call to validator.swagger.io: the page talks to this instance only.
    validatorUrl: null,
    displayOperationId: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    filter: true,
    persistAuthorization: false,
  });
});
