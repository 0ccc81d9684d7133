package crawl

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

func TestExtractLinks(t *testing.T) {
	page := mustURL(t, "http://127.0.0.1:8080/dir/page?x=1")
	tests := []struct {
		name string
		page string // "" = page
		body string
		want []string // "METHOD URL source"
	}{
		{"anchors and the like", "", `
<a href="a">a</a><A HREF="/b#frag">b</A><area href="../c"><link rel=stylesheet href="/s.css">
<iframe src="/frame?b=2&a=1"></iframe><frame src="//127.0.0.1:8080/f">
<img src="/img.png"><script src="/app.js"></script>`, []string{
			"GET http://127.0.0.1:8080/dir/a link",
			"GET http://127.0.0.1:8080/b link",
			"GET http://127.0.0.1:8080/c link",
			"GET http://127.0.0.1:8080/s.css link",
			"GET http://127.0.0.1:8080/frame?a=1&b=2 link",
			"GET http://127.0.0.1:8080/f link",
			"GET http://127.0.0.1:8080/app.js link",
		}},
		{"non-http and empty dropped", "", `<a href="javascript:void(0)">j</a><a href="mailto:a@b.c">m</a>
<a href="tel:1">t</a><a href="data:text/html,x">d</a><a href="">e</a><a>no href</a><a href="#top">top</a>`, []string{
			"GET http://127.0.0.1:8080/dir/page?x=1 link",
		}},
		{"other origins kept", "", `<a href="http://127.0.0.1:9999/x">p</a><a href="//localhost:8080/y">h</a>`, []string{
			"GET http://127.0.0.1:9999/x link",
			"GET http://localhost:8080/y link",
		}},
		{"duplicates once", "", `<a href="/x">1</a><a href="/x#a">2</a><a href="./../x">3</a>`, []string{
			"GET http://127.0.0.1:8080/x link",
		}},
		{"base href", "", `<head><base href="/api/v2/"><base href="/ignored/"></head><a href="users">u</a>`, []string{
			"GET http://127.0.0.1:8080/api/v2/users link",
		}},
		{"forms", "", `<form action="/search" method="GET"><input name=q></form>
<form method="post" action="save?k=v"><input name=a value=1></form><form></form><form method="dialog"></form><form method="bogus" action="/b?old=1"></form>`, []string{
			"GET http://127.0.0.1:8080/search?q= form",
			"POST http://127.0.0.1:8080/dir/save?k=v form",
			"GET http://127.0.0.1:8080/dir/page form",
			"GET http://127.0.0.1:8080/b form",
		}},
		{"form without action ignores base", "", `<base href="/elsewhere/"><form></form>`, []string{
			"GET http://127.0.0.1:8080/dir/page form",
		}},
		{"GET form default values", "", `<form action="/find">
<input name="q" value="lamp &amp; shade"><input type="hidden" name="h" value="1"><input name="off" value="x" disabled>
<input type="checkbox" name="c" value="yes" checked><input type="checkbox" name="n" value="no"><input type="checkbox" name="on" checked>
<input type="radio" name="r" value="a"><input type="radio" name="r" value="b" checked>
<select name="s"><option value="1">one<option value="2" selected>two</select>
<select name="first"><option disabled>none<option>  Plain   text </option></select>
<select name="m" multiple><option value="x" selected><option value="y" selected></select>
<select name="empty" multiple><option value="z"></select>
<textarea name="t">
line</textarea><input type="file" name="f"><input type="submit" name="go" value="Go"><input type="reset" name="rs">
<button name="b" value="v">Go</button><input type="image" name="img"><input value="unnamed">
</form>`, []string{
			"GET http://127.0.0.1:8080/find?c=yes&first=Plain+text&h=1&m=x&m=y&on=on&q=lamp+%26+shade&r=b&s=2&t=line form",
		}},
		{"formaction and formmethod", "", `<form action="/a" method="post"><input name="k" value="v">
<button formaction="/b">b</button><input type="submit" formaction="/c" formmethod="get"><button type="button" formaction="/never">n</button>
<button formaction="/d" disabled>d</button></form><button formaction="/outside?x=1">o</button>`, []string{
			"POST http://127.0.0.1:8080/a form",
			"POST http://127.0.0.1:8080/b form",
			"GET http://127.0.0.1:8080/c?k=v form",
			"GET http://127.0.0.1:8080/outside?x=1 form",
		}},
		{"unclosed form and select", "", `<form action="/u"><select name="s"><option value="1">`, []string{
			"GET http://127.0.0.1:8080/u?s=1 form",
		}},
		{"meta refresh", "", `<meta http-equiv="refresh" content="5; url=/next?a=1">
<meta http-equiv="Refresh" content="0;URL='/quoted'"><meta http-equiv="refresh" content="0, /comma">
<meta http-equiv="refresh" content="30"><meta name="refresh" content="0; url=/not-refresh">`, []string{
			"GET http://127.0.0.1:8080/next?a=1 redirect",
			"GET http://127.0.0.1:8080/quoted redirect",
			"GET http://127.0.0.1:8080/comma redirect",
		}},
		{"script literals", "", `<base href="/app/"><script>
fetch("/api/users?active=1"); const b = '/api/x', c = ` + "`/api/tpl/${id}`" + `, d = "text/html", e = "/", f = "//cdn.example/x";
const g = "https://127.0.0.1:8080/abs", h = "/has space", i = "/a\"b", j = "/*comment", k = "</div>";
</script><script src="/lib.js">fetch("/ignored")</script><style>a{background:url("/style.png")}</style>`, []string{
			"GET http://127.0.0.1:8080/api/users?active=1 script",
			"GET http://127.0.0.1:8080/api/x script",
			"GET https://127.0.0.1:8080/abs script",
			"GET http://127.0.0.1:8080/lib.js link",
		}},
		{"entities and whitespace", "", `<a href=" /a?x=1&amp;y=2 ">x</a><a href="/b
c">y</a>`, []string{
			"GET http://127.0.0.1:8080/a?x=1&y=2 link",
			"GET http://127.0.0.1:8080/bc link",
		}},
		{"broken html", "", `<a href="/ok">ok</a><a href="/unterminated`, []string{
			"GET http://127.0.0.1:8080/ok link",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, l := range extractLinks(page, []byte(tt.body)) {
				got = append(got, fmt.Sprintf("%s %s %s", l.Method, l.URL, l.Source))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("extractLinks:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// FuzzExtractLinks checks that every link is an http(s) URL in normal
// form, listed once, and that the scope reads it like its origin says.
func FuzzExtractLinks(f *testing.F) {
	for _, s := range []string{
		`<a href="/a">a</a><a href="../b?z=1&a=2#f">b</a>`,
		`<base href="http://127.0.0.1:9/x/"><a href="y">`,
		`<form method=post action="/save"></form><form></form>`,
		`<a href="javascript:alert(1)"><a href="//evil.example/">`,
		`<iframe src=" /%7efoo "><frame src="HTTP://127.0.0.1:8080:/">`,
		`<a href="http://127.0.0.1:8080@evil.example/">`,
		`<form action="//evil.example/s"><input name=q value="x"><button formaction="http://127.0.0.1:8080/b">`,
		`<meta http-equiv=refresh content="0;url=//evil.example/"><script>fetch("/api/a"); x="https://evil.example/"</script>`,
		`<a href="/p/1" data-method="delete"><a href="/p/2" data-turbo-method="Post"><i hx-put="/p/3"></i><button formaction="/p/4" formmethod=post>`,
		`<form method=post action=/p/5><input type=hidden name=_method value=patch></form>`,
	} {
		f.Add(s)
	}
	page := mustURL(f, "http://127.0.0.1:8080/dir/page")
	scope := &Scope{origin: mustURL(f, "http://127.0.0.1:8080")}
	sources := []string{sourceLink, sourceForm, sourceRedirect, sourceScript}
	f.Fuzz(func(t *testing.T, body string) {
		seen := map[string]bool{}
		for _, l := range extractLinks(page, []byte(body)) {
			s := l.URL.String()
			k := l.Method + " " + s
			if seen[k] {
				t.Errorf("%s listed twice", k)
			}
			seen[k] = true
			if l.Method == "" || !isMethodName(l.Method) {
				t.Errorf("%s: method %q", s, l.Method)
			}
			if !slices.Contains(sources, l.Source) {
				t.Errorf("%s: source %q", s, l.Source)
			}
			again, err := model.Normalize(nil, s)
			if err != nil || again.String() != s {
				t.Errorf("link %q is not normalised: %v %v", s, again, err)
			}
			wantIn := l.URL.Scheme == "http" && l.URL.Host == "127.0.0.1:8080"
			if got := scope.InOrigin(l.URL); got != wantIn {
				t.Errorf("InOrigin(%q) = %v, want %v", s, got, wantIn)
			}
			// What discovery keeps (the scope lets it through) is in scope.
			if _, skip := scope.Skip(l.Method, l.URL); !skip && !wantIn {
				t.Errorf("%s %q survives the scope, out of the origin", l.Method, s)
			}
			if strings.Contains(s, "#") {
				t.Errorf("link %q has a fragment", s)
			}
		}
	})
}

// TestSourceBits: every source has a bit of its own, and a set yields its
// sources back.
func TestSourceBits(t *testing.T) {
	var all sourceBits
	for _, s := range allSources {
		if all.with(s) == all {
			t.Errorf("source %q shares a bit with another", s)
		}
		all = all.with(s)
	}
	if got := slices.Collect(all.all()); !slices.Equal(got, allSources[:]) {
		t.Errorf("all sources: got %v, want %v", got, allSources)
	}
	s := sourceBits(0).with(SourceHAR).with(sourceLink).with(SourceHAR)
	if got := slices.Collect(s.all()); !slices.Equal(got, []string{sourceLink, SourceHAR}) {
		t.Errorf("link and har: got %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("an unknown source did not panic")
		}
	}()
	s.with("carrier pigeon")
}
