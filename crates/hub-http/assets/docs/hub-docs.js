// The hub's Swagger UI initializer (served as /api/docs/hub-docs.js; no inline script, so the
// page's Content-Security-Policy can forbid them). It shows the hub's own document only:
// `url` is fixed, `queryConfigEnabled: false` makes Swagger UI ignore `?url=` and `?config=`
// in the page's address (its default, stated here so that a change of default cannot turn it
// on), there is no `configUrl`, and no validator badge is fetched from elsewhere.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    queryConfigEnabled: false,
    validatorUrl: null,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout"
  });
});
