import NIOCore

/// `GET /`: the Swagger UI page rendering `/openapi.json`. The page loads swagger-ui from a CDN
/// in the browser; the gateway itself fetches nothing.
enum DocsPage {
    static let body = ByteBuffer(string: html)

    static let html = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>Switchboard - Swagger UI</title>
    <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
    </head>
    <body>
    <div id="swagger-ui"></div>
    <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
    <script>
    window.onload = function () {
      window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: true});
    };
    </script>
    </body>
    </html>
    """
}
