package roles

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string
	}{
		{"50/s", 50, ""},
		{" 600/m ", 10, ""},
		{"3600/h", 1, ""},
		{"20", 20, ""},
		{"0.5", 0.5, ""},
		{"unlimited", math.Inf(1), ""},
		{"Unlimited", math.Inf(1), ""},
		{"0", 0, "more than 0"},
		{"-3/s", 0, "more than 0"},
		{"1e-321/h", 0, "too small"},
		{"5/d", 0, "unit"},
		{"fast", 0, "want requests per second"},
		{"NaN", 0, "want requests per second"},
		{"Inf", 0, "want requests per second"},
		{"", 0, "want requests per second"},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseRate(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if back, err := ParseRate(FormatRate(got)); err != nil || back != got {
			t.Errorf("ParseRate(FormatRate(%v)) = %v, %v", got, back, err)
		}
	}
}

func TestLoadSafetyFields(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("not checked here"), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := `target: http://staging.example.test
allow_plain_http: true
tls: {ca_file: ca.pem, insecure: true}
proxy: http://127.0.0.1:8081
scope:
  allow_methods: ["POST /api/search", "put /api/profile"]
crawl:
  rate: 600/m
  host_rate: 2
  retries: 1
  max_retry_after: 5s
  max_duration: 10m
  max_probes: 500
  run_id_header: x-audit-run
`
	path := filepath.Join(dir, "permaudit.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, envOf(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !c.AllowPlainHTTP || !c.TLS.Insecure || c.TLS.CAFile != filepath.Join(dir, "ca.pem") || c.Proxy != "http://127.0.0.1:8081" {
		t.Errorf("got allow_plain_http %v, tls %+v, proxy %q", c.AllowPlainHTTP, c.TLS, c.Proxy)
	}
	var methods []string
	for _, p := range c.Scope.AllowMethods {
		methods = append(methods, p.Method)
	}
	if strings.Join(methods, ",") != "POST,PUT" {
		t.Errorf("allow_methods methods = %v, want POST,PUT", methods)
	}
	cc := c.Crawl
	if cc.Rate != 10 || cc.HostRate != 2 || cc.Retries != 1 || cc.MaxRetryAfter != 5*time.Second ||
		cc.MaxDuration != 10*time.Minute || cc.MaxProbes != 500 || cc.RunIDHeader != "X-Audit-Run" {
		t.Errorf("crawl = %+v", cc)
	}
}

func TestLoadSafetyDefaults(t *testing.T) {
	c := parseTest(t, "target: http://h\n", nil)
	cc := c.Crawl
	if cc.Rate != 0 || cc.HostRate != 0 || cc.Retries != 3 || cc.MaxRetryAfter != 30*time.Second ||
		cc.MaxDuration != 0 || cc.MaxProbes != 100_000 || cc.RunIDHeader != DefaultRunIDHeader {
		t.Errorf("crawl defaults = %+v", cc)
	}
	if c.AllowPlainHTTP || c.TLS != (TLSConfig{}) || c.Proxy != "" || c.Scope.AllowMethods != nil {
		t.Errorf("safety defaults: plain %v tls %+v proxy %q methods %v", c.AllowPlainHTTP, c.TLS, c.Proxy, c.Scope.AllowMethods)
	}
	off := parseTest(t, "target: http://h\ncrawl: {run_id_header: \"\", rate: unlimited}\n", nil)
	if off.Crawl.RunIDHeader != "" || !math.IsInf(off.Crawl.Rate, 1) {
		t.Errorf("run_id_header \"\" and rate unlimited: got %q, %v", off.Crawl.RunIDHeader, off.Crawl.Rate)
	}
}

func TestLoadSafetyErrors(t *testing.T) {
	tests := []struct {
		name, yaml      string
		line, col       int
		field, contains string
	}{
		{"plain not bool", "allow_plain_http: yes please\n", 2, 19, "allow_plain_http", "true or false"},
		{"tls unknown", "tls: {verify: false}\n", 2, 7, "tls.verify", "unknown field (known: ca_file, insecure)"},
		{"ca missing", "tls: {ca_file: /nonexistent/ca.pem}\n", 2, 16, "tls.ca_file", "cannot read /nonexistent/ca.pem"},
		{"insecure not bool", "tls: {insecure: 1}\n", 2, 17, "tls.insecure", "true or false"},
		{"proxy scheme", "proxy: ftp://p:21\n", 2, 8, "proxy", "want an http, https or socks5 URL"},
		{"proxy no host", "proxy: 'http://'\n", 2, 8, "proxy", "no host"},
		{"methods no method", "scope: {allow_methods: [/api/x]}\n", 2, 25, "scope.allow_methods[0]", "names no method"},
		{"methods GET", "scope: {allow_methods: ['GET /x']}\n", 2, 25, "scope.allow_methods[0]", "GET and HEAD are always allowed"},
		{"methods bad pattern", "scope: {allow_methods: ['POST x']}\n", 2, 25, "scope.allow_methods[0]", "must start with"},
		{"rate", "crawl: {rate: fast}\n", 2, 15, "crawl.rate", "want requests per second"},
		{"rate zero", "crawl: {host_rate: 0}\n", 2, 20, "crawl.host_rate", "write unlimited"},
		{"retries", "crawl: {retries: 4}\n", 2, 18, "crawl.retries", "out of range 0..3"},
		{"retry after", "crawl: {max_retry_after: 1h}\n", 2, 26, "crawl.max_retry_after", "out of range"},
		{"max duration", "crawl: {max_duration: soon}\n", 2, 23, "crawl.max_duration", "not a Go duration"},
		{"max probes", "crawl: {max_probes: 0}\n", 2, 21, "crawl.max_probes", "out of range"},
		{"run id header", "crawl: {run_id_header: 'a b'}\n", 2, 24, "crawl.run_id_header", "not a valid header name"},
		{"run id header reserved", "crawl: {run_id_header: cookie}\n", 2, 24, "crawl.run_id_header", "may not carry the run id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := parseErrs(t, "target: http://h\n"+tt.yaml, nil)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), errs)
			}
			e := errs[0]
			if e.Line != tt.line || e.Col != tt.col || e.Field != tt.field || !strings.Contains(e.Msg, tt.contains) {
				t.Errorf("got %d:%d %q %q\nwant %d:%d %q containing %q", e.Line, e.Col, e.Field, e.Msg, tt.line, tt.col, tt.field, tt.contains)
			}
		})
	}
}

func TestFingerprintAllowMethods(t *testing.T) {
	base := parseTest(t, "target: http://h\n", nil).Fingerprint()
	with := parseTest(t, "target: http://h\nscope: {allow_methods: ['POST /x']}\n", nil).Fingerprint()
	polite := parseTest(t, "target: http://h\ncrawl: {rate: 5/s}\n", nil).Fingerprint()
	if with == base {
		t.Errorf("allow_methods does not change the fingerprint: it changes what is sent")
	}
	if polite != base {
		t.Errorf("the rate changes the fingerprint: it changes nothing that is judged")
	}
}
