"use strict";
// Starts Swagger UI on this API's OpenAPI document. A file, not an inline script, so
// the page's CSP can stay script-src 'self'.
(function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    displayOperationId: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No call to the public validator (swagger.io) and no spec from ?url=: own origin only.
    validatorUrl: null,
    queryConfigEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
