package roles

import (
	"strings"
	"time"
)

// Defaults of sign-in (docs/config.md, "Signing in").
const (
	// DefaultMaxRenewals is how many times a role's session is renewed in
	// one run, at most, unless login.renew.max says otherwise (docs/design.md, "Sessions").
	DefaultMaxRenewals = 3
	// DefaultRenewBackoff is the wait before the first renewal that follows
	// a sign-in closely; it doubles with every renewal.
	DefaultRenewBackoff = time.Second
	// DefaultCommandTimeout bounds a login command.
	DefaultCommandTimeout = 60 * time.Second
)

// FormLogin signs in through an HTML form, as a browser does: GET the
// page, fill the form, submit it, follow the redirects on the target.
type FormLogin struct {
	// URL is the page holding the form: a path or an in-scope URL.
	URL string
	// Action, when set, picks the form whose action resolves to this path;
	// otherwise the first form holding a password field is used, or the
	// first form holding every configured field.
	Action string
	// Fields are the values typed in: field name to value. Every other
	// control of the form (hidden inputs such as CSRF tokens included)
	// keeps the value the page gave it.
	Fields map[string]string
	// FieldOrder is the order of Fields as configured.
	FieldOrder []string
}

// TokenUse says how a token obtained at sign-in is sent: in the header
// Header, as "Scheme token" (just the token when Scheme is empty).
type TokenUse struct {
	Header string // default "Authorization"
	Scheme string // default "Bearer"; "" sends the bare token
}

// Value renders the header value for token.
func (u TokenUse) Value(token string) string {
	if u.Scheme == "" {
		return token
	}
	return u.Scheme + " " + token
}

// JSONLogin signs in by sending a body (JSON or form-encoded) to a login
// endpoint, and takes the token from the answer.
type JSONLogin struct {
	URL      string
	Method   string // default POST
	Encoding string // "json" (default) or "form"
	// Body is the request body, already encoded as Encoding says.
	Body    []byte
	Headers map[string]string
	// Token is a path into the JSON answer ("token", "data.access_token");
	// TokenCookie is a cookie of the answer. With neither, the session is
	// the cookies the answer set.
	Token       string
	TokenCookie string
	// ExpiresIn is a path to the token's lifetime in seconds, for tokens
	// that are not JWTs with an exp claim; optional.
	ExpiresIn string
	Use       TokenUse
	// XSRF, when set, echoes an anti-forgery cookie into a header of the
	// login request, as single-page applications do; nil sends none.
	XSRF *XSRF
}

// Defaults of JSONLogin.XSRF: the names Laravel, Axios and Angular use.
const (
	DefaultXSRFCookie = "XSRF-TOKEN"
	DefaultXSRFHeader = "X-XSRF-TOKEN"
)

// XSRF is the cookie-to-header pattern of single-page applications
// (Laravel Sanctum, Django, Angular): GET URL with the sign-in's cookie
// jar, which sets the cookie Cookie; the login request then carries its
// value, URL-decoded, in the header Header.
type XSRF struct {
	URL    string // required: a path or an in-scope URL, such as /sanctum/csrf-cookie
	Cookie string // default DefaultXSRFCookie
	Header string // default DefaultXSRFHeader
}

// OAuth2Login obtains a token with the OAuth 2.0 client credentials grant
// (RFC 6749, section 4.4).
type OAuth2Login struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scopes       []string
	Params       map[string]string // extra token request parameters (audience, resource)
	// Auth is how the client authenticates: "header" (HTTP Basic),
	// "body" (client_id and client_secret as parameters), or "" to
	// detect it.
	Auth string
	// Use is how the token is sent; an empty Scheme here means the token
	// type the server gave (normally Bearer).
	Use TokenUse
}

// CommandLogin runs a program (no shell) whose standard output is a token
// or a Cookie header value.
type CommandLogin struct {
	Argv    []string
	Timeout time.Duration
	// Gives is "token" (attached as Use says) or "cookie" (a Cookie header
	// value such as "session=abc; csrf=def").
	Gives string
	Use   TokenUse
}

// Capture takes a role variable from the login answer.
type Capture struct {
	Var string
	// From is a path into the JSON answer ("record.id"), "header:Name"
	// for a header of the answer, or "regex:EXPR" for the first group of
	// EXPR (or the whole match) in the answer's body.
	From string
	// Credential says the value is sent as a credential: a static header
	// or cookie, or a check header, names it ({self.var}). Set by Load.
	Credential bool
}

// Secret reports whether the value c captures is a secret: taken from a
// header that carries credentials (Set-Cookie, Cookie, Authorization,
// Proxy-Authorization, or a header named like a secret), into a
// variable named like one (token, secret, key, pass, ...), or sent as a
// credential (Credential: a nonce sent in a header). A secret
// capture is redacted wherever it appears, saved in the run as its
// redacted name, and no matrix rule may use it (docs/config.md,
// "Capturing variables").
func (c Capture) Secret() bool {
	if c.Credential || secretFieldName(c.Var) {
		return true
	}
	name, ok := strings.CutPrefix(c.From, "header:")
	if !ok {
		return false
	}
	switch name = strings.ToLower(strings.TrimSpace(name)); name {
	case "set-cookie", "cookie", "authorization", "proxy-authorization":
		return true
	}
	return secretFieldName(name)
}

// SecretName is the name a capture's value is redacted as:
// "roles.alice.login.capture.token".
func (c Capture) SecretName(role string) string {
	return "roles." + role + ".login.capture." + c.Var
}

// Logout is the request that ends a session the audit signed in: sent
// once at the end of the audit (interrupted or failed too) with the
// session's own credentials, never with the role's static ones, so that
// a session given in the configuration is never ended. Its URL, body and
// headers may hold the role's variables ({self.logout_nonce}).
type Logout struct {
	Method  string // default GET
	URL     string // a path or an in-scope URL
	Body    string
	Headers map[string]string
}

// String is the request, "POST /logout", for messages; its query is
// left out (it may hold a token).
func (l *Logout) String() string {
	if l == nil {
		return ""
	}
	u, _, _ := strings.Cut(l.URL, "?")
	return l.Method + " " + u
}

// Renew bounds the renewals of a role's session in one run.
type Renew struct {
	Max     int           // default DefaultMaxRenewals; 0 never renews
	Backoff time.Duration // default DefaultRenewBackoff
}

// Check is how a role proves that its session is live: one request and
// what a live session answers.
type Check struct {
	Method  string // default GET
	URL     string // a path or an in-scope URL
	Body    string
	Headers map[string]string
	// Status is what a live session answers; 0 accepts any 2xx.
	Status int
	// Contains, when set, must be in a live session's answer.
	Contains string
	// LoggedOut, when set, is a body substring only a signed-out answer
	// holds ("Please sign in"). A probe answer holding it is read as
	// unauthenticated and confirmed; a check answer holding it fails.
	LoggedOut string
	// Unproven is proves_session: false: the user accepts a check that
	// also passes without the signed-in state (with the static
	// credentials alone, or anonymously). Without it the first sign-in
	// runs the check that way too, and refuses the role when it passes.
	Unproven bool
}

// String is the check's request, "GET /api/me", for messages.
func (c *Check) String() string {
	if c == nil {
		return ""
	}
	return c.Method + " " + c.URL
}

// Flow names the role's sign-in flow: "form", "json", "oauth2",
// "command", or "" for static credentials only.
func (l Login) Flow() string {
	switch {
	case l.Form != nil:
		return "form"
	case l.JSON != nil:
		return "json"
	case l.OAuth2 != nil:
		return "oauth2"
	case l.Command != nil:
		return "command"
	}
	return ""
}

// captures reports whether the login captures variable name.
func (l Login) captures(name string) bool {
	for _, c := range l.Capture {
		if c.Var == name {
			return true
		}
	}
	return false
}

// secretFieldName reports whether a form field or JSON body key names a
// secret: its value is registered as a credential even when written in
// the file rather than taken from the environment.
func secretFieldName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"pass", "secret", "token", "pin", "otp", "key", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
