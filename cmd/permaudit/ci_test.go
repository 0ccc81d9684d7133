package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/report"
)

// ciExample is a CI example users copy, with what a complete job in it
// must keep doing.
type ciExample struct {
	file  string
	wants []string
	// readme: README.md shows it verbatim; otherwise README.md links it.
	readme bool
}

var completeJob = []string{"--baseline", "html=", "junit=", "sarif=", "json="}

var ciExamples = []ciExample{
	{"../../docs/ci/github-actions.yml", []string{"services:", "--baseline", "--out html=", "--out junit=", "--out sarif=", "--out json="}, true},
	{"../../docs/ci/gitlab-ci.yml", []string{"services:", "--baseline", "--out html=", "--out junit=", "--out sarif=", "--out json="}, true},
	{"../../docs/ci/github-actions-shards.yml", append([]string{"matrix:", "discover", "--shard", "merge"}, completeJob...), false},
	{"../../docs/ci/kubernetes-indexed-job.yml", append([]string{"completionMode: Indexed", "discover", "--shard", "merge"}, completeJob...), false},
}

// ciCommands returns the permaudit command lines of a CI example, as
// words: the lines of its scripts that start with permaudit (GitHub's
// run, GitLab's script), and the args of its containers that run the
// permaudit image (Kubernetes). A GitHub expression ${{ matrix.shard }}
// is kept as one word part.
func ciCommands(t *testing.T, data []byte) [][]string {
	t.Helper()
	var cmds [][]string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not YAML: %v", err)
		}
		walkCommands(&doc, func(line string) {
			args, err := shellWords(strings.ReplaceAll(line, "${{ matrix.shard }}", "${{matrix.shard}}"))
			if err != nil {
				t.Errorf("%q: %v", line, err)
				return
			}
			cmds = append(cmds, args)
		}, func(args []string) { cmds = append(cmds, append([]string{"permaudit"}, args...)) })
	}
	return cmds
}

// walkCommands walks a CI file in document order and calls line with each
// permaudit line of its shell scripts (GitHub's run, GitLab's script,
// before_script and after_script: a string or a list of strings), and
// container with the args of each container whose image is permaudit's
// (its entrypoint is the permaudit binary).
func walkCommands(n *yaml.Node, line func(string), container func([]string)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walkCommands(c, line, container)
		}
	case yaml.MappingNode:
		var image string
		var args *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k, v := n.Content[i].Value, n.Content[i+1]; k {
			case "image":
				image = v.Value
			case "args":
				args = v
			}
		}
		if strings.Contains(image, "permaudit/permaudit") && args != nil {
			var words []string
			nodeStrings(args, func(s string) { words = append(words, s) })
			container(words)
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k, v := n.Content[i].Value, n.Content[i+1]; k {
			case "run", "script", "before_script", "after_script":
				nodeStrings(v, func(s string) {
					for _, l := range commandLines(s) {
						line(l)
					}
				})
			default:
				walkCommands(v, line, container)
			}
		}
	}
}

func nodeStrings(n *yaml.Node, f func(string)) {
	switch n.Kind {
	case yaml.ScalarNode:
		f(n.Value)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			nodeStrings(c, f)
		}
	}
}

// TestCIExamples parses each CI example and checks every permaudit command
// line in it against the real commands and flags, so the examples cannot
// rot: an unknown command or flag, a bad argument count, an unknown output
// format or verdict fails. TestCIExamplesRun runs them.
func TestCIExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range ciExamples {
		file := ex.file
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			example := data
			cmds := ciCommands(t, data)
			// An example that uses the action (action.yml) runs the
			// action's commands: check those, and that they do what a
			// complete job does.
			if strings.Contains(string(data), "uses: permaudit/permaudit@") {
				act, err := os.ReadFile(actionFile)
				if err != nil {
					t.Fatal(err)
				}
				cmds = append(cmds, ciCommands(t, act)...)
				data = append(slices.Clone(data), act...)
			}
			var verbs []string
			for _, args := range cmds {
				// A quoted array expansion, ${a[@]+"${a[@]}"}, stands
				// for flags checked where the array is filled.
				args = slices.DeleteFunc(slices.Clone(args), func(w string) bool { return strings.HasPrefix(w, "${") && strings.Contains(w, "[@]") })
				if err := checkCommandLine(args); err != nil {
					t.Errorf("%q: %v", args, err)
				}
				if len(args) > 1 {
					verbs = append(verbs, args[1])
				}
			}
			if !slices.Contains(verbs, "audit") || (!slices.Contains(verbs, "validate") && !slices.Contains(verbs, "discover")) {
				t.Errorf("permaudit commands found: %v; want at least validate or discover, and audit", verbs)
			}
			for _, want := range ex.wants {
				if !strings.Contains(string(data), want) {
					t.Errorf("the example lost %q", want)
				}
			}
			if ex.readme && !strings.Contains(string(readme), "```yaml\n"+string(example)+"```\n") {
				t.Errorf("README.md does not show %s verbatim in a yaml block", file)
			}
			if !ex.readme && !strings.Contains(string(readme), "("+strings.TrimPrefix(file, "../../")+")") {
				t.Errorf("README.md does not link %s", file)
			}
		})
	}
}

// commandLines returns the shell lines of a script that run permaudit,
// with backslash-newline continuations joined and folded scalars kept.
func commandLines(script string) []string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out []string
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "permaudit ") {
			out = append(out, line)
		}
	}
	return out
}

// shellWords splits a simple shell command line: words separated by
// blanks, single and double quotes, backslash escapes; a word starting
// with # ends the line. Expansions (${{ }}, $VAR) are kept as text.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words, nil
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errUnterminated
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte(`"\$`+"`", line[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errUnterminated
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ';' || c == '|' || c == '&':
			return nil, errCompound
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

type ciError string

func (e ciError) Error() string { return string(e) }

const (
	errUnterminated = ciError("unterminated quote")
	errCompound     = ciError("a compound command: keep each permaudit command on its own line")
)

// checkCommandLine parses args ("permaudit", verb, ...) with the real
// cobra commands, without running them, and checks the values the flags
// name: output formats and verdicts.
func checkCommandLine(args []string) error {
	if len(args) < 2 || args[0] != "permaudit" {
		return ciError("not a permaudit command")
	}
	var out, errb bytes.Buffer
	root := newRootCmd(ioStreams{Out: &out, Err: &errb})
	cmd, rest, err := root.Find(args[1:])
	if err != nil {
		return err
	}
	if cmd == root {
		return ciError("no such command: " + args[1])
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		return err
	}
	if f := cmd.Flags().Lookup("out"); f != nil {
		outs, _ := cmd.Flags().GetStringArray("out")
		for _, o := range outs {
			format, path, ok := strings.Cut(o, "=")
			if !ok || path == "" {
				return ciError("--out " + o + ": want FORMAT=PATH")
			}
			if _, err := report.WriterFor(format); err != nil {
				return err
			}
		}
	}
	if f := cmd.Flags().Lookup("fail-on"); f != nil && f.Changed {
		if _, err := judge.ParseFailOn(f.Value.String()); err != nil {
			return err
		}
	}
	return nil
}

func TestCheckCommandLineCatchesMistakes(t *testing.T) {
	cases := []struct {
		line string
		ok   bool
	}{
		{"permaudit audit -c p.yaml --out html=r.html --baseline b.yaml", true},
		{`permaudit report run.json -c "my config.yaml" --out 'sarif=x.sarif'`, true},
		{"permaudit diff a.json b.json --format markdown", true},
		{"permaudit learn run.json", true},
		{"permaudit discover -c p.yaml --out inventory.json", true},
		{"permaudit audit -c p.yaml --inventory inventory.json --shard 2/3 --out json=s.json", true},
		{"permaudit report merge -o merged.json s1.json s2.json --out html=r.html", true},
		{"permaudit report merge -o merged.json", false},
		{"permaudit report merge -o m.json --out pdf=x.pdf s.json", false},
		{"permaudit discover --shard 1/2", false},
		{"permaudit baseline run.json --expires 2025-06-30", true},
		{"permaudit audit --outt json=x", false},
		{"permaudit audit --out pdf=x.pdf", false},
		{"permaudit audit --fail-on leaks", false},
		{"permaudit audits -c p.yaml", false},
		{"permaudit diff a.json", false},
		{"permaudit audit -c p.yaml; rm -rf /", false},
	}
	for _, tc := range cases {
		args, err := shellWords(tc.line)
		if err == nil {
			err = checkCommandLine(args)
		}
		if (err == nil) != tc.ok {
			t.Errorf("%q: error %v, want ok=%v", tc.line, err, tc.ok)
		}
	}
}
