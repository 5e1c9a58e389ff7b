// The OpenAPI document in Swagger UI. With CCMON_API_TOKEN set, open /docs#token=...
// (as the wall board): a fragment is never sent to a server; the token stays in this tab.
(function () {
  "use strict";
  const TOKEN_KEY = "ccmon.apiToken";
  const given = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(given[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The document itself and "Try it out" go through here.
    requestInterceptor: (request) => {
      if (token && !request.headers.Authorization) {
        request.headers.Authorization = "Bearer " + token;
      }
      return request;
    },
  });
})();
