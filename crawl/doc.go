// Package crawl requests the target as each role: it discovers the
// endpoints every role can reach, probes every endpoint as every role and
// reads each answer into an answer class.
//
// # Scope and credentials
//
// A Scope is the target's origin (scheme, host and port, exactly: another
// port or host name of the same machine is out of scope) minus the
// exclusion words (roles.DefaultExcludeWords unless the configuration
// says otherwise, matched case-insensitively in the path and query,
// escaped or not) and the exclusion patterns. Only GET and HEAD are
// requested; other methods are skipped as "method not probed", unless a
// scope.allow_methods pattern opts in, and then Scope.Sendable lets the
// probe phase send them only to declared endpoints (sources list,
// openapi, har), never to crawled ones (safety.go).
//
// NewClient builds the one HTTP client of a role. Its transport refuses,
// before anything is sent, every request whose URL (or Host header) is
// outside the origin, and attaches the session's credentials to the
// others, on a copy of the request. It is the single place that keeps
// credentials in scope: redirects are never followed by the client
// (CheckRedirect returns http.ErrUseLastResponse), the role's cookie jar
// is only read for requests the transport lets through, and the discovery
// collector uses the same transport and jar. It also refuses requests of
// a role with credentials over plain HTTP to a host that is not loopback
// (unless allow_plain_http).
//
// # Transport
//
// Below every role's client is the run's one Transport (transport.go):
// the global and per-host rates (ratelimit.go), the cap on requests in
// flight, a time-out per attempt covering the body, the body cap after
// gzip decoding, retries of GET and HEAD after transient failures with
// jittered exponential backoff, Retry-After, pauses of a failing host
// (retry.go), the run id header, TLS and proxy settings, and dry runs.
// With FinishInFlight, a cancelled context stops requests not yet sent
// while those already sent finish or time out. One fresh http.Transport
// is made per Transport, keeping up to 64 idle connections per host.
//
// # Endpoints
//
// Every URL is normalised by Normalize before it is compared, recorded or
// requested: fragment dropped, scheme and host lower-cased, default port
// dropped, dot segments removed, escapes canonical, query parameters
// sorted by key. Two spellings of one resource are one endpoint.
//
// # Discovery
//
// Discover crawls as every role at once, with one colly collector per
// role (never Clone: clones share jars). Each role's crawl is breadth
// first: all URLs of one link depth, sorted, then taking turns by page
// (the first URL of every path, then the second: frontier.go), are
// fetched by bounded workers before the next depth, and what a depth's
// answers point to is added in URL order, so that max_depth,
// max_requests, max_per_template and max_query_variants (every query
// variant of one method and path counts toward one cap) cut the same
// URLs on every run. Start URLs and the
// configured sources' endpoints (sources.list, HAR files, OpenAPI
// operations; sources.go) have depth 0, as do robots.txt and
// /sitemap.xml; what a page of depth d points to has depth d+1.
// Redirects are recorded, never followed by the client; their in-scope
// targets are queued (source "redirect"). HTML answers of any status give
// links (extract.go: a, area, link, iframe, frame, script, meta refresh,
// forms submitted with their default values, formaction, <base href>,
// URL-looking strings in inline scripts; a link a framework sends with
// another method, data-method="delete", keeps that method and is never
// fetched); JSON answers give their
// URL-looking strings and the configured expansions (jsonlinks.go);
// JavaScript answers their string literals; robots.txt and sitemaps
// (sitemap.go) their paths. Every endpoint seen is in the inventory, also
// when the depth and request caps stopped it from being fetched, and
// endpoints of other methods are listed there and as skipped; loops and
// the per-template cap leave endpoints out (inventory.go). Inventory.Cut
// counts what the bounds left out, Pages the requests made. Every URL
// refused by the scope is listed in Inventory.Skipped with the reason, as
// is a discovered URL that carries a one-time token (token.go: a
// parameter named like one, or a value equal to an anti-forgery field,
// meta tag or cookie issued to the role), its token written "[token]".
//
// # Discovery and colly
//
// colly carries every discovery request. Each role's collector sends it
// through the role's client, and its OnResponse callback (OnError for an
// answer colly calls an error) reads the answer on the worker that asked
// for it: the keeper's classification and the extraction above, with
// this package's readers rather than OnHTML, whose goquery document
// would parse every page a second time. The body is dropped once read,
// and each page's small result is merged in its depth's sorted URL
// order. colly's MaxBodySize is one byte over crawl.max_body, so that a
// cut is never silent: the run's Transport counts it (Stats.Truncated)
// and the page is logged. colly converts a body that declares a charset
// other than UTF-8 before any callback sees it; links are read from the
// converted text, as a browser reads them.
//
// What colly does not do here, and why. Its Async mode parks a goroutine
// per URL and overshoots MaxRequests, so the crawl's bounded workers
// drive synchronous collectors. Its MaxDepth follows chains of Visit
// calls, not breadth-first depths, and its MaxRequests counts requests
// in the order they race, while the caps must cut the same sorted URLs
// on every run. Its visited set hashes URL and body without the
// method, and marks a redirect's target visited before the redirect
// handler refuses to follow it, so a queued redirect target, or the
// keeper's repeat of a request, would be refused: the crawl deduplicates
// itself. Its LimitRule waits and delays ignore cancellation and pace one
// collector, while the run's Transport paces every role and both phases.
// It has no cache, no robots.txt, no HEAD before GET and no headers of
// its own here. colly.NewCollector reads COLLY_* environment variables
// after its options; every setting they reach is assigned again after
// construction, so the environment changes nothing. colly's package
// imports goquery, the antchfx XML libraries, chardet, robotstxt and
// App Engine's urlfetch whether or not they are used, so their modules
// stay in go.mod.
//
// # Probing and classes
//
// Probe requests each endpoint as each role with Config.Crawl.Concurrency
// workers and plain net/http, in the order it is given (ProbeOrder:
// declared endpoints, then one URL per template, ...), after the
// existence canaries (canary.go). A redirect (301, 302, 303, 307, 308) is
// followed, as the same role, up to 5 hops, when its target is in scope,
// not excluded and not the login page; the final answer is classified and
// the chain kept. Bodies are read up to Config.Crawl.MaxBody (Truncated
// says when cut), hashed with SHA-256, and an excerpt of at most 512 bytes
// is kept after passing through the configuration's redactor, as is every
// error message and Location. With Options.Canaries every group of URLs
// naming a resource (an id, or a segment the rule names) gets two
// existence canaries (canary.go), probed before the rest; every denial of
// the group is compared with them as it arrives (judge.CompareMissing,
// Observation.Missing), and judge tells a hidden resource from a missing
// one.
//
// Each final answer is read into its answer class by package judge's
// Classifier (its package comment lists the rules, in order), with the
// role's logged-out text (judge.LoggedOut) and the reason a redirect was
// not followed (judge.Unfollowed).
//
// # Sessions
//
// With Options.Keeper set, every answer that judge.NeedsConfirm names
// (unauthenticated, forbidden, hidden, other; an allowed answer holding
// the role's logged-out text reads as unauthenticated) to a role with a
// check is confirmed before it is recorded, in discovery and in probing: a
// check that started after it proves the session live, or the session is
// renewed and the request repeated once, alone. Confirmations are
// batched (session.Keep): discovery flushes the answers waiting for a
// check at the end of each depth, before merging its pages, and Probe at
// its end.
//
// With Options.Answers set, a page discovery read whole, as the role,
// is that cell's observation: Probe does not request it again when the
// session has not been renewed since (answers.go has the rules). A URL after which the check fails on a
// fresh session is session-ending: no signed-in role requests it again.
// An answer unauthenticated only by the logged-out text, with the session
// then proven live, is recorded as an error: the text proved nothing.
// When renewal fails the session is lost and the role's answers since its
// last passing check become errors. Keeper's comment has the rules;
// Observation.Session records what was proven.
package crawl
