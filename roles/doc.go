// Package roles holds what an audit is about before any request is sent:
// the configuration (Load, Parse), the roles and their credentials, the
// expected access matrix (Config.Expect) and the patterns it is written in
// (ParsePattern), each role's live Session, and the Redactor that keeps
// every secret value out of evidence, logs and errors.
//
// # Configuration
//
// Load decodes the YAML format of docs/config.md into a yaml.Node tree and
// walks it in a second pass, so that every problem carries file:line:col
// and the dotted field path ("roles.admin.login.bearer"), unknown fields
// are errors, and every problem is reported at once as ConfigErrors,
// sorted by position. ${NAME} references are expanded in every string
// value; a missing or empty variable is an error naming it. The walk is
// internal/yamlwalk's, which report.ParseBaseline shares: it follows YAML
// aliases, and refuses before any walk a file whose aliases would expand
// past yamlwalk.MaxAliasNodes, so that a few nested aliases cannot cost
// gigabytes.
//
// Secrets: every credential value (basic password, the "user:pass" base64
// and full "Basic ..." forms, bearer token and "Bearer ..." header value,
// configured header and cookie values) and every value expanded from the
// environment into a credential field (env_secret.go) or written
// ${secret:NAME} is registered in Config.Secrets under its field path. A
// value from the environment in a URL, an id, a username or a variable is
// not a secret. Config.Fingerprint hashes a canonical rendering of the
// loaded configuration (defaults applied, map keys sorted) in which those
// values are replaced by their field names: changing a token or an
// environment value keeps the fingerprint; changing anything else in the
// file changes it. SetTarget does not change the fingerprint.
//
// Choices the format leaves open:
//   - CrawlConfig.UserAgent is left empty when not configured: the caller,
//     who knows the version, fills in the default;
//   - crawl ranges: max_depth 0..1000, max_requests 1..10000000,
//     concurrency 1..64, timeout above 0 and at most 1h, max_body 1..1 GiB;
//   - a rule needs match and allow (allow: [] denies every role); deny_as
//     and allow accept a lone value for a list of one;
//   - role names are [a-z0-9_-]+; "self" is reserved; "anonymous" may be
//     declared for its vars only, and is always Config.Roles[0];
//   - a {role.var} reference (in a pattern or a start URL) must name a
//     declared role and one of its declared vars; {self.var} is unchecked
//     there; in a login or a check it is substituted only where
//     credential_vars.go says, must name the role's own variable or
//     capture, and is an error anywhere else (it would be sent literally);
//   - login credentials may be combined as docs/config.md says; when
//     several set Authorization, NewSession keeps the last of basic,
//     bearer, headers. Header and cookie names must be HTTP tokens; cookie
//     values must be RFC 6265 cookie-octets, so that what is sent is what
//     was configured (and what the Redactor knows); Cookie, Host and
//     Content-Length cannot be set as headers;
//   - field paths index lists from 0: "matrix.rules[0].allow[1]";
//   - a value from ${ENV} is a secret in credential fields only, or when
//     written ${secret:NAME} (docs/design.md, "Secrets", records why).
//
// # Patterns
//
// A Pattern is "[METHOD] PATH[?QUERY]" (docs/config.md, Patterns). Paths
// compare by decoded segments, case-sensitively; a trailing slash is a
// final empty segment, so "/admin/" and "/admin" differ while "/admin/**"
// matches both. "*" and "{name}" match one non-empty segment. The method
// compares case-insensitively and HEAD does not match GET.
//
// Config.Expect compiles the matrix at its first lookup (compiled.go):
// the URL is split once per lookup, literal segments are found by map,
// and only the patterns the index proposes are matched, in rule order, so
// the first rule in file order wins as in a plain scan (expectScan, the
// reference FuzzCompiledMatrix checks it against). docs/design.md, "The
// matrix at scale".
//
// # Sign-in and sessions
//
// A role's Login may hold one sign-in flow (FormLogin, JSONLogin,
// OAuth2Login, CommandLogin; docs/config.md, "Signing in") and its Check.
// roles only describes them: running a flow, keeping the session alive
// and renewing it is package session's.
package roles
