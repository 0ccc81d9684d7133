// Package demoapp is "Acme Orders", the small shop that `permaudit demo`
// starts on a random 127.0.0.1 port and audits. It is a plain net/http
// handler with fixed data, four roles, a policy written as code, and four
// bugs that can be planted one by one, so that the findings an audit must
// report are known in advance from the server's side.
//
// # The application
//
// Forty-one GET endpoints, HTML pages and a JSON API under /api/, all
// linked from pages: the public shop (/, /about, /search?q=lamp,
// /products/{id}, /api/products/{id}); the customer's account
// (/account/, /orders/, /orders/{id}, /api/profile, /api/orders,
// /api/orders/{id}); the support area (/support/, /support/orders/,
// /support/tickets/{id}, /api/tickets/{id}); and the admin area (/admin/,
// /admin/users/{id}, /admin/settings, /admin/reports/sales?year=2024,
// /api/admin/users, /api/admin/export, /api/admin/stats). Each role's
// navigation links what that role may see, so discovery as a higher role
// finds more. Every page links /logout, which ends nothing but counts its
// hits (LogoutHits), so tests can check that an audit never requested it.
// /login shows anonymous a sign-in form with a password field (the demo
// has no sign-in flow: roles use static credentials) and sends a signed-in
// role on to /. Directories answer 301 to their trailing-slash form
// ("/admin" to "/admin/"); unknown paths are 404; only GET and HEAD are
// served. Endpoints lists the route table.
//
// # Roles and credentials
//
// anonymous; customer (Carol, user 21, who owns order 17), signed in by the
// cookie acme_session=CustomerCookie; support, by Authorization: Bearer
// SupportToken; admin, by HTTP Basic admin:AdminPassword. Wrong or absent
// credentials are anonymous. The embedded configuration (Config) reads the
// credentials from ${DEMO_CUSTOMER_COOKIE}, ${DEMO_SUPPORT_TOKEN} and
// ${DEMO_ADMIN_PASSWORD}; Env gives their values.
//
// # The intended policy
//
// Policy.Decide is the policy, and the handler serves what it decides.
// Admin inherits support, which inherits customer. The shop is public. A
// customer reads their own account and order 17; support also reads every
// order and the support area; admin also reads the admin area. Denials:
//
//   - anonymous on a protected HTML page: 302 to /login?next=<the page>;
//   - anonymous on a protected API path: 401 with WWW-Authenticate: Bearer;
//   - a signed-in role without the right: 403;
//   - orders are hidden from those who may not read them: a customer
//     asking for another customer's order (18, 19), and anonymous asking
//     the order API /api/orders/{id} for any order, get 404, exactly like
//     an order that does not exist (the order pages /orders/{id} still send
//     anonymous to /login);
//   - a customer opening the support queue /support/: a 200 page saying
//     "Sorry, you are not allowed to see this page" (a denial the
//     configuration declares as a denial signature).
//
// Rights are checked before existence: an unknown path under /admin/ is
// 403 to support and 404 only to admin.
//
// # The planted bugs
//
// Each switch of Bugs plants one bug; each bug changes the answers of a
// few known (endpoint, role) cells (Bug.Cells) and so causes findings of
// exactly one verdict (Bug.Verdict):
//
//   - leak: GET /api/admin/export answers 200 to support (it checks for
//     staff instead of admin);
//   - blocked: GET /support/tickets/{id} answers 403 to support (it checks
//     for admin instead of support or higher);
//   - wrong-code: GET /api/tickets answers 403 to anonymous instead of 401;
//   - existence-leak: GET /api/orders/{id} answers 403 to a customer for
//     another customer's order, but 404 for an order that does not exist.
//
// With no bug planted, auditing the demo with its embedded configuration
// reports no finding.
package demoapp
