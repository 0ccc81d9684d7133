// Package session is the one owner of the roles' live sessions
// (docs/design.md, "Sessions"): signing in with each role's flow,
// checking that a session is live, renewing it, and keeping the audit
// honest while sessions end under it.
//
// # Sign-in
//
// A Session is one role's live state. SignIn runs the role's flow
// (roles.FormLogin, JSONLogin, OAuth2Login, CommandLogin) with the
// *http.Client given in SessionOptions (crawl's scoped client: the flows
// follow redirects themselves, on the target's origin only, and parse
// forms with golang.org/x/net/html), installs what it obtained (a cookie
// jar, a token header, captured variables) and runs the check with the
// role's own client. Renew signs in again, capped by Renew.Max with a
// backoff that doubles; Ready refreshes a token whose expiry is known (a
// JWT's exp, expires_in, OAuth 2.0's expiry) when a quarter of its
// lifetime is left. Every value obtained is registered with the
// configuration's Redactor the moment it is obtained: cookies set during
// a sign-in (8 bytes or more, raw and URL-decoded), CSRF-like hidden
// values, a JSON login's XSRF token, tokens and the header values built
// from them, a command's output.
//
// Variables captured at sign-in live in the Session, never in the
// configuration, which stays as it was loaded (Captured). Configured
// headers and cookies holding role variables ({self.nonce}) are resolved
// again at every sign-in, and the check's request at every check, so a
// renewal sends what it has just captured. The first sign-in also runs
// the check without the signed-in state (proveCheck) and fails when it
// passes that way. SignOut ends a session its flow signed in with the
// role's logout request, carrying the session's own credentials only. The audit saves
// them in the run (model.RoleInfo.Vars) so that judging a saved run again
// uses exactly the values the audit used.
//
// # Keeping sessions honest
//
// The Keeper decides what an answer of a signed-in role is worth when its
// session may have ended: Keep makes one request under its rules (the
// Keeper's comment lists them), confirming with the role's check every
// answer that judge.NeedsConfirm names, renewing a session found dead and
// repeating the request once, alone. Confirmations are batched: one
// passing check confirms every answer of the role that arrived before it,
// on the same session generation. crawl makes every discovery and probe
// request of a role with a check through Keep, and Flushes the role's
// waiting answers before it reads them.
//
// The role's jar never applies an answer's deletion of a session cookie
// (one the last sign-in set, 8 bytes or more, or a configured one): Keep
// marks the URL that answered it session-ending at once, without a
// check or a renewal. A new value (a rotation) is applied.
package session
