// Package authapp is the sign-in test application: a real net/http
// application, started on 127.0.0.1, whose users sign in the ways real
// applications make them, and whose sessions end the ways real sessions
// end, so that tests can prove an audit signs in, stays signed in, and
// never reads a dead session as a finding.
//
// # Signing in
//
//   - POST /login: an HTML form protected against forgery: GET /login sets
//     a pre-session cookie and serves a hidden csrf_token bound to it; the
//     post must carry both (and, when it sends Origin, the application's
//     own), plus the form's checked checkbox and its named submit button.
//     Success sets the session cookie sid and answers 303 to /dashboard.
//     Used by editor, viewer and admin.
//   - POST /api/login: JSON {username, password}; answers
//     {"data":{"access_token": JWT, "user": {"id": 14}}}. The JWT is HS256
//     with an exp holding fractions of a second. Used by api.
//   - POST /oauth/token: the OAuth 2.0 client credentials grant (HTTP
//     Basic or body parameters); answers a Bearer token with expires_in.
//     Used by service.
//   - POST /spa/login: a single-page application's JSON login {email,
//     password} behind Laravel Sanctum's anti-forgery pattern: GET
//     /sanctum/csrf-cookie first sets a pre-session cookie and a
//     URL-encoded XSRF-TOKEN cookie bound to it; the login must echo the
//     decoded token in X-XSRF-TOKEN, or it answers 419 "CSRF token
//     mismatch.". Success sets the session cookie sid. Used by spa.
//
// # How sessions end
//
// Options make them end quickly: an editor's session after N requests
// (then every answer is 401), a viewer's after a time (then every page is
// the login form, served with 200), an admin's after N requests (then 403
// "Invalid or expired nonce"), the JWT and the OAuth token at their
// expiry (401). GET /account/switch ends the session of whoever requests
// it and sends them to /login: a session-ending URL that no exclusion
// word catches. Every page links /logout.
//
// # Truth
//
// Policy.Decide is who may see what; the handler serves what it decides,
// so tests take the truth from it, never from what the audit found. One
// bug can be planted (Policy.LeakExport). The application logs every
// request (Requests), every successful sign-in (Logins) and every secret
// value it issued to one (Secrets).
package authapp
