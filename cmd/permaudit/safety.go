package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/roles"
)

// safetyFlags are the flags that keep an audit safe and polite: see the
// README's "Safety" section.
type safetyFlags struct {
	DryRun      bool
	MaxDuration time.Duration
	Rate        string
	Insecure    bool
	PlainHTTP   bool
	CAFile      string
	Proxy       string

	// tune adjusts the run's transport options after the configuration
	// and flags are applied: tests shorten the backoffs and pauses.
	tune func(*crawl.TransportOptions)
}

func addSafetyFlags(c *cobra.Command, f *safetyFlags) {
	fs := c.Flags()
	fs.BoolVar(&f.DryRun, "dry-run", false, "send nothing: print every request that would be sent, per role, and exit")
	fs.DurationVar(&f.MaxDuration, "max-duration", 0, "end the run after this long (e.g. 30m), discovery taking at most half: requests in flight finish, declared endpoints are probed first, every output is written marked incomplete with what was left per page, exit 4 (crawl.max_duration)")
	fs.StringVar(&f.Rate, "rate", "", "requests per second of the whole run: 20/s, 600/m, or unlimited (crawl.rate; default 50/s, unlimited for a loopback target)")
	fs.BoolVar(&f.Insecure, "insecure", false, "do not verify the target's TLS certificate (tls.insecure)")
	fs.BoolVar(&f.PlainHTTP, "allow-plain-http", false, "let credentials cross plain HTTP to a host that is not loopback, such as a CI job's service container on its private network (allow_plain_http)")
	fs.StringVar(&f.CAFile, "ca-file", "", "PEM file of CA certificates to trust besides the system's (tls.ca_file)")
	fs.StringVar(&f.Proxy, "proxy", "", "send every request through this proxy, such as Burp or ZAP at http://127.0.0.1:8080 (default: HTTPS_PROXY, HTTP_PROXY, NO_PROXY)")
}

// apply puts the flags into cfg, after --target, and checks what they and
// the configuration allow; it returns every problem.
func (f safetyFlags) apply(cfg *roles.Config) []string {
	var problems []string
	if f.Rate != "" {
		if r, err := roles.ParseRate(f.Rate); err != nil {
			problems = append(problems, fmt.Sprintf("--rate: %v", err))
		} else {
			cfg.Crawl.Rate = r
		}
	}
	switch {
	case f.MaxDuration < 0:
		problems = append(problems, fmt.Sprintf("--max-duration %v: must be positive", f.MaxDuration))
	case f.MaxDuration > 0:
		cfg.Crawl.MaxDuration = f.MaxDuration
	}
	if f.Insecure {
		cfg.TLS.Insecure = true
	}
	if f.PlainHTTP {
		cfg.AllowPlainHTTP = true
	}
	if f.CAFile != "" {
		abs, err := filepath.Abs(f.CAFile)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("--ca-file: %v", err))
		} else {
			cfg.TLS.CAFile = abs
		}
	}
	if f.Proxy != "" {
		if err := roles.CheckProxy(f.Proxy); err != nil {
			problems = append(problems, fmt.Sprintf("--proxy: %v", err))
		} else {
			cfg.Proxy = f.Proxy
		}
	}
	if err := crawl.CheckPlainHTTP(cfg); err != nil {
		problems = append(problems, err.Error())
	}
	return problems
}
