package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
	"github.com/permaudit/permaudit/roles"
)

// judgeFlags are the flags with which `report` judges a saved run again.
type judgeFlags struct {
	ConfigPath   string
	BaselinePath string
	DiffPath     string
}

func addJudgeFlags(c *cobra.Command, f *judgeFlags) {
	fs := c.Flags()
	fs.StringVarP(&f.ConfigPath, "config", "c", "", "judge the run again against this configuration's matrix, without sending a request")
	fs.StringVar(&f.BaselinePath, "baseline", "", "baseline file (YAML): listed findings do not fail the gate")
	fs.StringVar(&f.DiffPath, "diff", "", "an earlier run JSON: the outputs show what changed since (new and fixed findings, changed answers)")
}

// judgeSaved applies -c, --baseline and --diff to a run read from a file.
// It reports whether it judged (-c or --baseline): then the caller's exit
// code follows the gate.
func judgeSaved(run *model.Run, f judgeFlags, env func(string) (string, bool), now func() time.Time) (bool, error) {
	var old *model.Run
	if f.DiffPath != "" {
		r, err := readRunFile(f.DiffPath, nil)
		if err != nil {
			return false, usageErr(fmt.Errorf("--diff: %w", err))
		}
		old = r
	}
	if old != nil {
		defer func() { run.Diff = report.Compare(old, run) }()
	}
	if f.ConfigPath == "" && f.BaselinePath == "" {
		return false, nil
	}
	var base *report.Baseline
	if f.BaselinePath != "" {
		b, err := loadBaseline(f.BaselinePath)
		if err != nil {
			return false, err
		}
		base = b
	}
	if f.ConfigPath != "" {
		cfg, err := loadConfig(f.ConfigPath, placeholderEnv(env))
		if err != nil {
			return false, err
		}
		if err := rejudge(run, cfg); err != nil {
			return false, usageErr(err)
		}
	}
	if base != nil {
		report.ApplyBaseline(run, base, now())
	}
	return true, nil
}

// rejudge judges run again against cfg's matrix. The configuration's
// fail_on, when it sets one, replaces the run's gate list.
func rejudge(run *model.Run, cfg *roles.Config) error {
	if cfg.FailOn != nil {
		failOn := strings.Join(cfg.FailOn, ",")
		if failOn == "" {
			failOn = "none"
		}
		v, err := judge.ParseFailOn(failOn)
		if err != nil {
			return fmt.Errorf("%s: fail_on: %w", cfg.File, err)
		}
		run.Gate.FailOn = v
	}
	return judge.Rejudge(run, cfg)
}

// placeholderEnv is env where a variable that is not set reads as a
// placeholder: judging a saved run needs the matrix, never a credential,
// so it must not need the secrets the configuration names.
func placeholderEnv(env func(string) (string, bool)) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if env != nil {
			if v, ok := env(name); ok && v != "" {
				return v, true
			}
		}
		return "permaudit-placeholder-" + name, true
	}
}

// loadBaseline reads a baseline file; every problem is a usage error.
func loadBaseline(path string) (*report.Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr(fmt.Errorf("read the baseline: %w; write one with permaudit baseline run.json > %s", err, path))
	}
	b, err := report.ParseBaseline(path, data)
	if err != nil {
		var ce roles.ConfigErrors
		if errors.As(err, &ce) {
			return nil, usageErr(fmt.Errorf("baseline has %d problem(s):\n%w", len(ce), err))
		}
		return nil, usageErr(err)
	}
	return b, nil
}
