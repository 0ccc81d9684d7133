package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
)

// sarifRootUsage is the help of --sarif-root, for audit, demo and report.
const sarifRootUsage = "directory the SARIF output's file locations are relative to (%SRCROOT%); default: the git top level of the configuration file, else the working directory"

// sarifOptions says what the SARIF output's locations are relative to:
// --sarif-root when given, else the git top level above the configuration
// file (the repository GitHub's code scanning checked out), else the
// working directory. configFile is the configuration's path as given.
func sarifOptions(root, configFile string) (report.SARIFOptions, error) {
	wd, err := os.Getwd()
	if err != nil {
		return report.SARIFOptions{}, fmt.Errorf("--sarif-root: the working directory: %w", err)
	}
	wd = realPath(wd)
	if root != "" {
		abs, err := filepath.Abs(root)
		if err != nil {
			return report.SARIFOptions{}, fmt.Errorf("--sarif-root %q: %w", root, err)
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return report.SARIFOptions{}, fmt.Errorf("--sarif-root %q: not a directory; give the repository's top level", root)
		}
		return report.SARIFOptions{Root: realPath(abs), Dir: wd}, nil
	}
	start := wd
	if configFile != "" {
		start = filepath.Dir(filepath.Join(wd, configFile))
		if filepath.IsAbs(configFile) {
			start = filepath.Dir(configFile)
		}
	}
	if top, ok := gitTopLevel(realPath(start)); ok {
		return report.SARIFOptions{Root: top, Dir: wd}, nil
	}
	return report.SARIFOptions{Root: wd, Dir: wd}, nil
}

// gitTopLevel is the nearest directory from dir upwards that holds .git
// (a directory, or a file in a worktree or submodule).
func gitTopLevel(dir string) (string, bool) {
	for {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// realPath resolves symbolic links, so that a root and a file reached
// through different links still relate; p itself when it cannot.
func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// runConfigFile is the configuration a saved run's rules are written in.
func runConfigFile(run *model.Run) string {
	for _, r := range run.Rules {
		if r.File != "" {
			return r.File
		}
	}
	return run.ConfigFile
}

// useSARIFOptions gives every sarif output its root.
func useSARIFOptions(outs []output, opts report.SARIFOptions) {
	for i := range outs {
		if outs[i].Format == "sarif" {
			outs[i].W = report.SARIFWriter(opts)
		}
	}
}
